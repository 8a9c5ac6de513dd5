import { describe, it, expect } from '@jest/globals';
import { clients } from '../lib/kube.js';

const { core } = clients();

describe('nodes', () => {
  it('has simulated nodes that are all Ready and schedulable', async () => {
    const nodes = (await core.listNode()).items;
    expect(nodes.length).toBeGreaterThan(0);
    const notReady = nodes
      .filter((node) => node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True')
      .map((node) => node.metadata?.name);
    expect(notReady).toEqual([]);
    expect(nodes.filter((node) => node.spec?.unschedulable === true)).toEqual([]);
  });
});

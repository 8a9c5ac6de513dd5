import { describe, it, expect, afterEach } from '@jest/globals';
import { FakeApiserver, obj } from '../support/fake-apiserver.js';
import { Informer, type RestartReason } from '../../src/runtime/informer.js';
import { KubeClient, type KubeObject } from '../../src/runtime/kube.js';
import { JitteredBackoff } from '../../src/runtime/backoff.js';

const waitUntil = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Informer traps', () => {
  let api: FakeApiserver;
  let informer: Informer<KubeObject> | undefined;
  afterEach(async () => {
    await informer?.stop();
    await api.stop();
  });

  async function start(opts: { quietMs?: number; backoff?: JitteredBackoff } = {}) {
    const kc = await api.start();
    const restarts: RestartReason[] = [];
    const events: string[] = [];
    informer = new Informer<KubeObject>(new KubeClient(kc), {
      name: 'configmaps',
      path: '/api/v1/configmaps',
      quietMs: opts.quietMs ?? 60_000,
      backoff: opts.backoff ?? new JitteredBackoff(20, 100),
      onRestart: (r) => restarts.push(r),
    });
    informer.addHandlers({
      add: (o) => events.push(`add ${o.metadata.name}`),
      update: (o) => events.push(`update ${o.metadata.name}`),
      delete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    await informer.start();
    return { restarts, events };
  }

  it('requests bookmarks and restarts a silent watch from the last resourceVersion', async () => {
    api = new FakeApiserver();
    api.items = [{ name: 'a', rv: '5' }];
    api.scripts.push(
      { kind: 'events', events: [{ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } }] },
      { kind: 'events', events: [{ type: 'ADDED', object: obj('b', '13') }] },
    );
    const { restarts, events } = await start({ quietMs: 300 });
    await waitUntil(() => events.includes('add b'));
    expect(restarts).toEqual(['quiet']);
    expect(api.watchQueries[0]!.get('allowWatchBookmarks')).toBe('true');
    expect(api.watchQueries[0]!.get('resourceVersion')).toBe('10');
    expect(api.watchQueries[1]!.get('resourceVersion')).toBe('12'); // resumed after the bookmark
    expect(api.listCount).toBe(1); // no re-list for a quiet watch
  });

  it('keeps restarting a watch that fails with an error other than 410, with jittered backoff', async () => {
    api = new FakeApiserver();
    api.scripts.push(
      { kind: 'status', code: 500 },
      { kind: 'status', code: 503 },
      {
        kind: 'events',
        events: [{ type: 'ADDED', object: obj('late', '11') }],
      },
    );
    const delays: number[] = [];
    const backoff = new JitteredBackoff(40, 1000, () => 0.5);
    const next = backoff.next.bind(backoff);
    backoff.next = () => {
      const d = next();
      delays.push(d);
      return d;
    };
    const { restarts, events } = await start({ backoff });
    await waitUntil(() => events.includes('add late'));
    expect(restarts).toEqual(['error', 'error']);
    expect(delays).toEqual([30, 60]);
    expect(api.watchQueries).toHaveLength(3);
  });

  it('re-lists on 410 Gone and emits the deletes it missed', async () => {
    api = new FakeApiserver();
    api.items = [
      { name: 'a', rv: '1' },
      { name: 'b', rv: '2' },
    ];
    api.scripts.push({
      kind: 'events',
      events: [{ type: 'ERROR', object: { kind: 'Status', code: 410 } }],
      thenClose: true,
      delayMs: 300,
    });
    const { restarts, events } = await start();
    expect(events).toEqual(['add a', 'add b']);
    // While the watch was away: b deleted, a changed, c created.
    api.items = [
      { name: 'a', rv: '20' },
      { name: 'c', rv: '21' },
    ];
    api.listRv = '22';
    await waitUntil(() => events.includes('delete b'));
    expect(restarts[0]).toBe('expired');
    expect(events.slice(2).sort()).toEqual(['add c', 'delete b', 'update a']);
    expect(
      informer!
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(api.listCount).toBe(2);
  });

  it('treats an HTTP 410 on watch start like an expired watch', async () => {
    api = new FakeApiserver();
    api.scripts.push({ kind: 'status', code: 410 });
    const { restarts } = await start();
    await waitUntil(() => api.listCount === 2);
    expect(restarts).toEqual(['expired']);
  });

  it('contains a throwing handler: other handlers and the watch keep going', async () => {
    api = new FakeApiserver();
    api.scripts.push({
      kind: 'events',
      events: [
        { type: 'ADDED', object: obj('x', '11') },
        { type: 'ADDED', object: obj('y', '12') },
      ],
    });
    const kc = await api.start();
    const errors: unknown[] = [];
    informer = new Informer<KubeObject>(new KubeClient(kc), {
      name: 'configmaps',
      path: '/api/v1/configmaps',
      onError: (e) => errors.push(e),
    });
    const seen: string[] = [];
    informer.addHandlers({
      add: () => {
        throw new Error('handler bug');
      },
    });
    informer.addHandlers({ add: (o) => seen.push(o.metadata.name) });
    await informer.start();
    await waitUntil(() => seen.length === 2);
    expect(seen).toEqual(['x', 'y']);
    expect(errors).toHaveLength(2);
  });
});

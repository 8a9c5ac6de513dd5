// OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set (OTEL_SDK_DISABLED=true turns it off regardless). Only the http, pg and ioredis
// instrumentations are loaded; the exporter, sampler, resource and headers follow the standard
// OTEL_* variables, read by the SDK itself.
//
// No instrumentation-express: it wraps every middleware layer and makes a span per layer (about 15
// per request here), which cost more CPU than the rest of the tracing (make bench --profile). The one
// thing of it a trace needs, the route, comes from our own route pattern on the request's span.
//
// ESM: the instrumentations patch modules as they are imported, so this must run before express,
// pg or ioredis are imported: main.ts calls it first and imports the service dynamically after.
// ESM imports are only visible through import-in-the-middle's loader hook, registered here.
import type { IncomingMessage } from 'node:http';
import { register } from 'node:module';
import type { Request, Response } from 'express';
import { routePattern } from '../http/middleware/route-pattern.js';

export interface Tracing {
  shutdown(): Promise<void>;
}

// Head sampling unless OTEL_TRACES_SAMPLER says otherwise: one trace in ten, and always the caller's
// decision when a traceparent header carries one. Tracing every request cost about a fifth of a cached
// read's CPU (make bench); a sampled trace per ten requests still shows every slow path under load.
const DEFAULT_SAMPLER = {
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: '0.1',
};

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export async function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Tracing | undefined> {
  if (!tracingEnabled(env)) return undefined;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  // The SDK reads its sampler from process.env only.
  if (!env.OTEL_TRACES_SAMPLER) Object.assign(process.env, DEFAULT_SAMPLER);
  const [{ NodeSDK }, { OTLPTraceExporter }, http, pg, ioredis] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
  ]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    traceExporter: new OTLPTraceExporter(),
    // Traces only: metrics are Prometheus's (/metrics), logs go to stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new http.HttpInstrumentation({
        // Probes and scrapes would drown the traces that matter.
        ignoreIncomingRequestHook: (req) =>
          /^\/(live|ready|startup|metrics|distributed\/(live|ready|metrics))\b/.test(req.url ?? ''),
        // Runs as the response ends, before the span does: names the server span after its route.
        applyCustomAttributesOnSpan: (span, request, response) => {
          if (!('locals' in response)) return; // an outgoing request, not one Express answered
          const route = routePattern(request as Request, response as Response);
          if (route === 'unmatched') return;
          span.setAttribute('http.route', route);
          span.updateName(`${(request as IncomingMessage).method ?? 'GET'} ${route}`);
        },
      }),
      new pg.PgInstrumentation(),
      new ioredis.IORedisInstrumentation(),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

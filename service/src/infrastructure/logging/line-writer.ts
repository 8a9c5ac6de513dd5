// The bytes of log lines leave through sonic-boom, pino's destination: asynchronous writes to fd 1
// that coalesce every line logged while one write is in flight into the next write (a busy process
// writes once per completed write, not once per line), waiting for a full pipe on a timer instead
// of on the event loop, and one synchronous flush on exit, so a crash or process.exit right after
// a log call loses nothing. winston stays the logging API; this is only its transport.
import sonicBoom from 'sonic-boom';
import TransportStream from 'winston-transport';

// sonic-boom is CommonJS: its class hangs off the module object.
const { SonicBoom } = sonicBoom;
const MESSAGE = Symbol.for('message');

/** Where formatted lines go: stdout's destination, or an in-process stream that a test reads. */
export interface LineSink {
  write(chunk: string): unknown;
}

// While a full pipe refuses a chunk, sonic-boom retries it on a timer but keeps it out of reach of
// flushSync (pinojs/sonic-boom#101): an exit in that window would drop it. So a refused write is
// handed back instead (retryEAGAIN false: sonic-boom keeps the chunk first in line and reports
// EAGAIN), retried from here on a timer, and flushSync on exit finds every chunk, retrying EAGAIN
// there until the reader has taken it all.
const RETRY_FULL_PIPE_MS = 10;
let stdoutSink: LineSink | undefined;

/** The process's one destination on stdout, shared by every logger so lines keep their order. */
export function stdoutLines(): LineSink {
  if (!stdoutSink) {
    let exiting = false;
    let retry: NodeJS.Timeout | undefined;
    const boom = new SonicBoom({ fd: 1, retryEAGAIN: () => exiting });
    boom.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EAGAIN' && err.code !== 'EBUSY') return; // EPIPE, EBADF: nobody reads any more
      // unref: a full pipe never keeps a finished process alive; the exit flush delivers the rest.
      retry ??= setTimeout(() => {
        retry = undefined;
        boom.write('');
      }, RETRY_FULL_PIPE_MS).unref();
    });
    process.once('exit', () => {
      exiting = true;
      try {
        boom.flushSync();
      } catch {
        // A closed stdout at exit: nothing left to deliver to.
      }
    });
    stdoutSink = boom;
  }
  return stdoutSink;
}

/** A winston transport that hands each formatted line to a shared sink. */
export class LineTransport extends TransportStream {
  constructor(private readonly sink: LineSink) {
    super();
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.sink.write(`${String(info[MESSAGE])}\n`);
    next();
  }
}

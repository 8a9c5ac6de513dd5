// Log lines leave the process in batches: one write every 20 ms or 64 KiB instead of one per line.
// Under load a write(2) per access-log line cost a quarter of a request's CPU (make bench
// BENCH_ARGS=--profile: writev and writeUtf8String). Lines keep their order, go out within 20 ms or at
// 64 KiB, and stdout is written synchronously, retrying while a pipe
// is full, so an exit right after a log call (a crash, process.exit) loses nothing: process.stdout
// queues in memory what a full pipe refuses and drops it on exit.
import { writeSync } from 'node:fs';
import TransportStream from 'winston-transport';

const MESSAGE = Symbol.for('message');
const FLUSH_AT_BYTES = 64 * 1024;
// Short enough that a tail -f feels live, long enough that a busy process writes a few dozen times a second.
const FLUSH_AFTER_MS = 20;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `text` to `fd`, waiting while a non-blocking pipe is full; a closed output drops it. */
function writeAllSync(fd: number, text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return; // EPIPE, EBADF: nobody reads
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

export class BufferedLineWriter {
  private static stdoutWriter: BufferedLineWriter | undefined;
  private lines: string[] = [];
  private bytes = 0;
  private scheduled = false;

  /** The process's one writer to stdout, flushed on exit. */
  static stdout(): BufferedLineWriter {
    if (!BufferedLineWriter.stdoutWriter) {
      const writer = new BufferedLineWriter((chunk) => writeAllSync(1, chunk), FLUSH_AFTER_MS);
      process.once('exit', () => writer.flush());
      BufferedLineWriter.stdoutWriter = writer;
    }
    return BufferedLineWriter.stdoutWriter;
  }

  /** A writer to an in-process stream (tests read what was logged from one): flushed every loop turn. */
  static to(stream: NodeJS.WritableStream): BufferedLineWriter {
    return new BufferedLineWriter((chunk) => stream.write(chunk), 0);
  }

  private constructor(
    private readonly sink: (chunk: string) => void,
    private readonly flushAfterMs: number,
  ) {}

  write(line: string): void {
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= FLUSH_AT_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      if (this.flushAfterMs === 0) setImmediate(() => this.flush());
      // unref: a pending flush never keeps a finished process alive; the exit hook writes the rest.
      else setTimeout(() => this.flush(), this.flushAfterMs).unref();
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const chunk = this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    this.sink(chunk);
  }
}

/** A winston transport that hands each formatted line to a shared BufferedLineWriter. */
export class LineWriterTransport extends TransportStream {
  constructor(private readonly writer: BufferedLineWriter) {
    super();
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.writer.write(`${String(info[MESSAGE])}\n`);
    next();
  }
}

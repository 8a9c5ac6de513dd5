// A faster carrier of the flags file's content than the mounted file itself. While it is live its
// content wins; while it is down the file is the source (and it stays the record either way).
export interface FlagsFeedHandlers {
  // The content of the flags file as the feed has it now; undefined when there is none.
  content(text: string | undefined): void;
  // Whether the feed is connected and current.
  state(live: boolean): void;
}

export interface FlagsFeed {
  // Where the feed reads from, for /api/v1/flags and the logs.
  readonly description: string;
  readonly live: boolean;
  // Restarts after a failure, counted since start.
  readonly restarts: number;
  start(handlers: FlagsFeedHandlers): void;
  stop(): Promise<void>;
}

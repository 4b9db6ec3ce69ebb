import { createHash } from 'node:crypto';
import type { RedisClient } from './RedisConnection.js';

/** A Lua script run by its SHA1 (sent once per Redis restart, not with every call). */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await redis.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      // A fresh or restarted Redis does not know the script yet: EVAL loads it.
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, { keys, arguments: args });
    }
  }
}

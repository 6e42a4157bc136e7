import type Redis from 'ioredis';

/**
 * The stream keys of a Redis database, by `SCAN … COUNT 1000 TYPE stream`, for the did-you-mean of a missing stream
 * and the wizard's list: at most `rounds` SCAN calls, and no more once over `names` keys; `more` when the scan stopped
 * before the cursor came back to 0.
 */
export async function scanStreamKeys(
  client: Pick<Redis, 'call'>,
  bounds: { rounds?: number; names?: number },
): Promise<{ names: string[]; more: boolean }> {
  const rounds = bounds.rounds ?? Infinity;
  const most = bounds.names ?? Infinity;
  const names = new Set<string>();
  let cursor = '0';
  for (let round = 0; round < rounds; round++) {
    const [next, keys] = (await client.call('SCAN', cursor, 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]];
    for (const k of keys) names.add(k);
    cursor = next;
    if (cursor === '0' || names.size > most) break;
  }
  return { names: [...names], more: cursor !== '0' };
}

/** `pinot-export cat <segment> [--columns a,b] [--limit N]`: rows as JSON Lines in doc order. */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { SegmentReader } from '../sources/segment-reader.js';
import { legacyPaddingOption, parse, positiveInt, readerOptions, S3_OPTIONS } from './args.js';
import { batchToRows } from './json-rows.js';
import type { CliIo } from './program.js';

export async function runCat(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(() => parseArgs({
    args,
    allowPositionals: true,
    options: {
      columns: { type: 'string' },
      limit: { type: 'string' },
      'batch-rows': { type: 'string' },
      'legacy-padding': { type: 'string' },
      ...S3_OPTIONS,
    },
  }), ['segment']);
  const limit = positiveInt('limit', values.limit) ?? Infinity;
  const batchRows = Math.min(positiveInt('batch-rows', values['batch-rows']) ?? 8192, Math.max(1, limit));
  const columns = values.columns?.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  await using reader = await SegmentReader.open(positionals[0]!, readerOptions(values));
  let written = 0;
  const legacyPadding = legacyPaddingOption(values['legacy-padding']);
  for await (const batch of reader.batches({ columns, batchRows, keepDictionaries: true, legacyPadding })) {
    const rows = batchToRows(batch);
    const take = Math.min(rows.length, limit - written);
    let out = '';
    for (let i = 0; i < take; i++) out += JSON.stringify(rows[i]) + '\n';
    written += take;
    // Respect stdout backpressure so `cat | head` on a 1 GB segment does not buffer it all.
    if (!io.stdout.write(out)) await once(io.stdout, 'drain');
    if (written >= limit) break;
  }
}

/**
 * LLC (low-level consumer) segment names: `<rawTable>__<partition>__<sequence>__<yyyyMMddTHHmmZ>`
 * (Pinot's `LLCSegmentName`). Within a partition, sequence numbers are consecutive and a segment is created
 * (ZK status IN_PROGRESS) only after its predecessor committed, which is what makes per-partition progress
 * ranges a safe watermark (see eligibility.ts). Uploaded segments (`uploaded__…`) and any other names are
 * not LLC names.
 */
export interface LlcName {
  table: string;
  partition: number;
  sequence: number;
  creationTime: string;
}

const CREATION_TIME = /^\d{8}T\d{4}Z$/;
const NON_NEGATIVE = /^(0|[1-9]\d{0,8})$/;

export function parseLlcName(name: string): LlcName | undefined {
  const parts = name.split('__');
  if (parts.length !== 4) return undefined;
  const [table, partition, sequence, creationTime] = parts as [string, string, string, string];
  if (table === '' || !NON_NEGATIVE.test(partition) || !NON_NEGATIVE.test(sequence) || !CREATION_TIME.test(creationTime)) return undefined;
  return { table, partition: Number(partition), sequence: Number(sequence), creationTime };
}

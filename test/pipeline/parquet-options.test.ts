/** The Parquet keys of a DataExportTask config: defaults, every key, and errors naming key, value and what is accepted. */
import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../src/errors.js';
import { DEFAULT_PARQUET_OPTIONS, PARQUET_KEYS, parseParquetOptions } from '../../src/pipeline/parquet-options.js';

function configError(config: Record<string, unknown>): ConfigError {
  try {
    parseParquetOptions(config as Record<string, string>);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  return expect.fail(`expected a ConfigError for ${JSON.stringify(config)}`);
}

describe('parseParquetOptions', () => {
  it('an empty config gives the defaults: SNAPPY, 128 MiB row groups, 1 MiB pages, dictionaries on, no JSON shredding, no DECIMAL', () => {
    expect(parseParquetOptions({})).toStrictEqual({
      compressionCodec: 'SNAPPY', rowGroupSizeBytes: 134_217_728, pageSizeBytes: 1_048_576, enableDictionary: true,
    });
    expect(DEFAULT_PARQUET_OPTIONS).toStrictEqual(parseParquetOptions({}));
  });

  it('reads every key, as Pinot stores them (strings), ignoring the DataExportTask keys of other stages', () => {
    expect(parseParquetOptions({
      fileFormat: 'parquet',
      'fileFormat.parquet.compressionCodec': 'ZSTD',
      'fileFormat.parquet.rowGroupSizeBytes': '134217728',
      'fileFormat.parquet.pageSizeBytes': '65536',
      'fileFormat.parquet.enableDictionary': 'false',
      'fileFormat.parquet.json.maxDepth': '3',
      'fileFormat.parquet.json.unknownKeysBehavior': 'warn',
      'fileFormat.parquet.decimal.precision': '38',
      'fileFormat.parquet.decimal.scale': '10',
      'destination.s3.bucket': 'lake',
      schedule: '0 0 * * * ?',
    })).toStrictEqual({
      compressionCodec: 'ZSTD', rowGroupSizeBytes: 134_217_728, pageSizeBytes: 65_536, enableDictionary: false,
      jsonMaxDepth: 3, jsonUnknownKeys: 'warn', decimal: { precision: 38, scale: 10 },
    });
  });

  it('json.unknownKeysBehavior: warn or fail in any case; anything else names the key, the value and both choices', () => {
    expect(parseParquetOptions({ [PARQUET_KEYS.jsonUnknownKeys]: ' FAIL ' }).jsonUnknownKeys).toBe('fail');
    expect(parseParquetOptions({ [PARQUET_KEYS.jsonUnknownKeys]: 'Warn' }).jsonUnknownKeys).toBe('warn');
    const err = configError({ [PARQUET_KEYS.jsonUnknownKeys]: 'ignore' });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.context.key).toBe('fileFormat.parquet.json.unknownKeysBehavior');
    expect(err.message).toContain('fileFormat.parquet.json.unknownKeysBehavior is "ignore"; accepted: warn, fail');
  });

  it('accepts every codec in any case, and fileFormat in any case; spaces around numbers are fine', () => {
    for (const codec of ['SNAPPY', 'GZIP', 'ZSTD', 'UNCOMPRESSED']) {
      expect(parseParquetOptions({ [PARQUET_KEYS.compressionCodec]: codec.toLowerCase() }).compressionCodec).toBe(codec);
    }
    expect(parseParquetOptions({ fileFormat: 'PARQUET', [PARQUET_KEYS.rowGroupSizeBytes]: ' 1024 ' }).rowGroupSizeBytes).toBe(1024);
    expect(parseParquetOptions({ [PARQUET_KEYS.enableDictionary]: 'TRUE' }).enableDictionary).toBe(true);
  });

  it('decimal.precision alone means scale 0', () => {
    expect(parseParquetOptions({ [PARQUET_KEYS.decimalPrecision]: '18' }).decimal).toStrictEqual({ precision: 18, scale: 0 });
  });

  it('an unknown codec names the key, the value and the accepted codecs', () => {
    const err = configError({ [PARQUET_KEYS.compressionCodec]: 'LZO' });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.context.key).toBe('fileFormat.parquet.compressionCodec');
    expect(err.message).toContain('fileFormat.parquet.compressionCodec is "LZO"; accepted: SNAPPY, GZIP, ZSTD, UNCOMPRESSED');
  });

  it('fileFormat other than parquet is a config error naming it', () => {
    const err = configError({ fileFormat: 'orc' });
    expect(err.context.key).toBe('fileFormat');
    expect(err.message).toContain('fileFormat is "orc"; accepted: parquet');
  });

  it.each([
    ['fileFormat.parquet.rowGroupSizeBytes', '-1'],
    ['fileFormat.parquet.rowGroupSizeBytes', '0'],
    ['fileFormat.parquet.rowGroupSizeBytes', '128MB'],
    ['fileFormat.parquet.rowGroupSizeBytes', '1.5'],
    ['fileFormat.parquet.rowGroupSizeBytes', '2147483648'],
    ['fileFormat.parquet.pageSizeBytes', '-4096'],
    ['fileFormat.parquet.pageSizeBytes', ''],
    ['fileFormat.parquet.json.maxDepth', '0'],
    ['fileFormat.parquet.json.maxDepth', '33'],
    ['fileFormat.parquet.decimal.precision', '39'],
    ['fileFormat.parquet.decimal.precision', '0'],
  ])('%s = %j is refused with the key, the value and the accepted range', (key, value) => {
    const err = configError({ [key]: value });
    expect(err.context.key).toBe(key);
    expect(err.message).toContain(`${key} is ${JSON.stringify(value)}; accepted:`);
    expect(err.message).toMatch(/from \d+ to \d+/);
  });

  it('a scale above the precision or without a precision is refused', () => {
    const above = configError({ [PARQUET_KEYS.decimalPrecision]: '5', [PARQUET_KEYS.decimalScale]: '6' });
    expect(above.context.key).toBe(PARQUET_KEYS.decimalScale);
    expect(above.message).toContain('"6"');
    expect(above.message).toContain('from 0 to 5');
    const alone = configError({ [PARQUET_KEYS.decimalScale]: '2' });
    expect(alone.context.key).toBe(PARQUET_KEYS.decimalPrecision);
    expect(alone.message).toContain('set both');
  });

  it('enableDictionary must be true or false', () => {
    const err = configError({ [PARQUET_KEYS.enableDictionary]: 'yes' });
    expect(err.message).toContain('fileFormat.parquet.enableDictionary is "yes"; accepted: true, false');
  });

  it('an unknown fileFormat.parquet.* key (a typo) is refused and the known keys are listed', () => {
    const err = configError({ 'fileFormat.parquet.compresionCodec': 'ZSTD' });
    expect(err.context.key).toBe('fileFormat.parquet.compresionCodec');
    expect(err.message).toContain('unknown key fileFormat.parquet.compresionCodec');
    expect(err.message).toContain('fileFormat.parquet.compressionCodec');
  });

  it('a value that is not a string (a JSON number) is refused with the key', () => {
    const err = configError({ [PARQUET_KEYS.pageSizeBytes]: 4096 });
    expect(err.context.key).toBe(PARQUET_KEYS.pageSizeBytes);
    expect(err.message).toContain('must be a string');
  });
});

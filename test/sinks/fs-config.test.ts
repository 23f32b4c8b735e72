/** Output target config as users write it in task.taskTypeConfigsMap.DataExportTask. */
import { describe, expect, it } from 'vitest';
import { LOCAL_PINOT_FS, parseOutputConfig, S3_PINOT_FS, type OutputTarget } from '../../src/sinks/fs-config.js';
import { clientConfig, parseDuration, parseS3Props } from '../../src/sinks/s3-config.js';
import { configError } from '../support/errors.js';

function s3(target: OutputTarget) {
  if (target.kind !== 's3') throw new Error(`expected an S3 target, got ${target.kind}`);
  return target;
}

describe('outputDirURI and the file system class', () => {
  it('an s3:// URI without a class is S3: bucket and a sanitized key prefix', () => {
    const t = s3(parseOutputConfig({ outputDirURI: 's3://my-bucket//exports/events', 'output.fs.prop.region': 'eu-west-1' }));
    expect(t).toMatchObject({ bucket: 'my-bucket', prefix: 'exports/events/', uri: 's3://my-bucket//exports/events' });
    expect(t.settings.region).toBe('eu-west-1');
    expect(s3(parseOutputConfig({ outputDirURI: 's3a://b-1/' })).prefix).toBe('');
    expect(s3(parseOutputConfig({ outputDirURI: 's3://b-1' })).prefix).toBe('');
    expect(s3(parseOutputConfig({ outputDirURI: 's3://b-1/a%20b/c/' })).prefix).toBe('a b/c/');
  });

  it('file:// URIs and absolute paths are local; the class may say so explicitly', () => {
    expect(parseOutputConfig({ outputDirURI: 'file:///data/out/' })).toMatchObject({ kind: 'local', dir: '/data/out' });
    expect(parseOutputConfig({ outputDirURI: 'file:/data/out' })).toMatchObject({ kind: 'local', dir: '/data/out' });
    expect(parseOutputConfig({ outputDirURI: 'file://localhost/data/x%20y' })).toMatchObject({ kind: 'local', dir: '/data/x y' });
    expect(parseOutputConfig({ outputDirURI: '/data/out', 'output.fs.className': LOCAL_PINOT_FS })).toMatchObject({ kind: 'local', dir: '/data/out' });
    const t = parseOutputConfig({ outputDirURI: 's3://bucket/p', 'output.fs.class': S3_PINOT_FS });
    expect(t.kind).toBe('s3');
  });

  it('a missing outputDirURI names the key and shows what is accepted', () => {
    const err = configError(() => parseOutputConfig({ 'output.fs.className': S3_PINOT_FS }));
    expect(err.context.key).toBe('outputDirURI');
    expect(err.message).toContain('s3://bucket/');
    expect(err.message).toContain('file:///');
    configError(() => parseOutputConfig({ outputDirURI: '  ' }));
  });

  it('GCS, HDFS and ADLS classes are refused with what to use instead', () => {
    for (const cls of ['GcsPinotFS', 'HadoopPinotFS', 'ADLSGen2PinotFS']) {
      const err = configError(() => parseOutputConfig({ outputDirURI: 'gs://b/p', 'output.fs.className': `org.apache.pinot.plugin.filesystem.${cls}` }));
      expect(err.context.key).toBe('output.fs.className');
      expect(err.message).toContain('not supported yet');
      expect(err.message).toMatch(/S3PinotFS|LocalPinotFS/);
    }
  });

  it('the scheme decides when no class is set; unsupported schemes say which PinotFS they would need', () => {
    for (const uri of ['gs://b/p', 'hdfs://nn:8020/p', 'abfss://c@acct.dfs.core.windows.net/p']) {
      const err = configError(() => parseOutputConfig({ outputDirURI: uri }));
      expect(err.context.key).toBe('outputDirURI');
      expect(err.message).toContain('not supported yet');
    }
    const err = configError(() => parseOutputConfig({ outputDirURI: 'ftp://host/p' }));
    expect(err.message).toContain('S3PinotFS');
  });

  it('an unknown class name lists the accepted ones', () => {
    const err = configError(() => parseOutputConfig({ outputDirURI: 's3://b/p', 'output.fs.className': 'com.example.MyFS' }));
    expect(err.context.key).toBe('output.fs.className');
    expect(err.message).toContain(S3_PINOT_FS);
    expect(err.message).toContain(LOCAL_PINOT_FS);
  });

  it('malformed or mismatched URIs are refused with the expected form', () => {
    const cases: Record<string, string>[] = [
      { outputDirURI: 's3:///prefix' },
      { outputDirURI: 's3:bucket/prefix' },
      { outputDirURI: 's3://b/p?x=1' },
      { outputDirURI: 's3://user@bucket/p' },
      { outputDirURI: 's3://b:9000/p' },
      { outputDirURI: 's3://a/p' },
      { outputDirURI: 's3://bad%zz/p' },
      { outputDirURI: 's3://bucket/%zz' },
      { outputDirURI: 'relative/dir' },
      { outputDirURI: 'file://otherhost/data' },
      { outputDirURI: 's3://bucket/p', 'output.fs.className': LOCAL_PINOT_FS },
      { outputDirURI: '/data/out', 'output.fs.className': S3_PINOT_FS },
      { outputDirURI: 's3://bucket/p', 'output.fs.className': S3_PINOT_FS, 'output.fs.class': LOCAL_PINOT_FS },
    ];
    for (const c of cases) {
      const err = configError(() => parseOutputConfig(c));
      expect(err.message, JSON.stringify(c)).toMatch(/expected|must|disagree|invalid|bucket/);
    }
  });

  it('S3PinotFS properties on a local target are reported as ignored', () => {
    const t = parseOutputConfig({ outputDirURI: '/tmp/x', 'output.fs.prop.region': 'us-east-1' });
    expect(t.warnings.join('\n')).toContain('output.fs.prop.region');
  });
});

describe('S3PinotFS properties', () => {
  const parse = (props: Record<string, string>) => parseS3Props(props);

  it('maps every S3PinotFS key to the client and request settings', () => {
    const { settings, warnings } = parse({
      region: 'eu-central-1', accessKey: 'AK', secretKey: 'SK', endpoint: 'https://minio.local:9000', disableAcl: 'false',
      serverSideEncryption: 'aws:kms', ssekmsKeyId: 'arn:aws:kms:k', ssekmsEncryptionContext: 'e30=', storageClass: 'STANDARD_IA',
      multiPartUploadPartSize: '64MB', requestChecksumCalculation: 'when_required', responseChecksumValidation: 'WHEN_REQUIRED',
      useLegacyMd5Plugin: 'true', crossRegionAccessEnabled: 'false', 'httpclient.maxConnections': '50',
      'httpclient.socketTimeout': '30s', 'httpclient.connectionTimeout': 'PT2S',
    });
    expect(warnings).toEqual([]);
    expect(settings).toMatchObject({
      region: 'eu-central-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }, endpoint: 'https://minio.local:9000',
      forcePathStyle: true, acl: 'bucket-owner-full-control', serverSideEncryption: 'aws:kms', sseKmsKeyId: 'arn:aws:kms:k',
      sseKmsEncryptionContext: 'e30=', storageClass: 'STANDARD_IA', partSize: 64 * 1024 * 1024,
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', legacyMd5: true,
      followRegionRedirects: false, http: { maxSockets: 50, requestTimeoutMs: 30_000, connectionTimeoutMs: 2_000 },
    });
    const client = clientConfig(settings);
    expect(client).toMatchObject({ region: 'eu-central-1', endpoint: 'https://minio.local:9000', forcePathStyle: true, followRegionRedirects: false });
    expect(client.credentials).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK' });
  });

  it('defaults: default credential chain, no ACL (disableAcl=true), 16 MiB parts × 4, conditional writes on', () => {
    const { settings } = parse({});
    expect(settings).toMatchObject({
      credentials: undefined, acl: undefined, forcePathStyle: false, partSize: 16 * 1024 * 1024, queueSize: 4,
      conditionalWrites: true, cleanupStaleUploads: true, followRegionRedirects: true,
    });
    expect(clientConfig(settings).credentials).toBeUndefined();
  });

  it('bad values name the full key and what is accepted', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ accessKey: 'AK' }, 'output.fs.prop.secretKey', /go together/],
      [{ secretKey: 'SK' }, 'output.fs.prop.accessKey', /default credential chain/],
      [{ disableAcl: 'yes' }, 'output.fs.prop.disableAcl', /true or false/],
      [{ serverSideEncryption: 'AWS_KMS' }, 'output.fs.prop.serverSideEncryption', /AES256, aws:kms/],
      [{ serverSideEncryption: 'aws:kms' }, 'output.fs.prop.ssekmsKeyId', /required/],
      [{ storageClass: 'COLD' }, 'output.fs.prop.storageClass', /STANDARD/],
      [{ multiPartUploadPartSize: '1MB' }, 'output.fs.prop.multiPartUploadPartSize', /5MB and 5GB/],
      [{ multiPartUploadPartSize: 'lots' }, 'output.fs.prop.multiPartUploadPartSize', /64MB/],
      [{ endpoint: 'minio:9000' }, 'output.fs.prop.endpoint', /http:\/\//],
      [{ 'httpclient.socketTimeout': 'soon' }, 'output.fs.prop.httpclient.socketTimeout', /30s/],
      [{ iamRoleBasedAccessEnabled: 'true', roleArn: 'arn:aws:iam::1:role/x' }, 'output.fs.prop.iamRoleBasedAccessEnabled', /role_arn/],
      [{ multiPartUploadQueueSize: '0' }, 'output.fs.prop.multiPartUploadQueueSize', /integer from 1/],
    ];
    for (const [props, key, message] of cases) {
      const err = configError(() => parse(props));
      expect(err.context.key, JSON.stringify(props)).toBe(key);
      expect(err.message, JSON.stringify(props)).toMatch(message);
    }
  });

  it('unknown and no-effect keys are warnings, not failures', () => {
    const { warnings } = parse({ regoin: 'x', minObjectSizeForMultiPartUpload: '5G', 'httpclient.connectionTimeToLive': '0s', roleArn: 'r' });
    const text = warnings.join('\n');
    expect(text).toContain('unknown key output.fs.prop.regoin');
    expect(text).toContain('minObjectSizeForMultiPartUpload');
    expect(text).toContain('connectionTimeToLive');
    expect(text).toContain('roleArn');
  });

  it('durations and sizes in Pinot\'s notations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h20m')).toBe(4_800_000);
    expect(parseDuration('1hr20s')).toBe(3_620_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('PT1H20S')).toBe(3_620_000);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('1x')).toBeUndefined();
    expect(parse({ multiPartUploadPartSize: '128M' }).settings.partSize).toBe(128 * 1024 * 1024);
    expect(parse({ multiPartUploadPartSize: '1G' }).settings.partSize).toBe(1024 ** 3);
    expect(parse({ multiPartUploadPartSize: '6291456' }).settings.partSize).toBe(6_291_456);
  });
});

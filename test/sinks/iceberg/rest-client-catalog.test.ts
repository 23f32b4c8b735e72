/**
 * The REST client against the repository's spec-validating test catalog (test/support/iceberg-catalog.ts):
 * OAuth2 with expiring tokens, vended credentials, real optimistic concurrency and injected faults.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { parseCatalogSettings } from '../../../src/sinks/iceberg/catalog-config.js';
import { s3AccessFor } from '../../../src/sinks/iceberg/credentials.js';
import { IcebergError } from '../../../src/sinks/iceberg/errors.js';
import { IcebergRestClient } from '../../../src/sinks/iceberg/rest-client.js';
import { dataLocation, mainSnapshot } from '../../../src/sinks/iceberg/table-metadata.js';
import { startIcebergCatalog, type IcebergCatalog } from '../../support/iceberg-catalog.js';
import { describeFixtures } from '../../support/fixtures.js';

const T = { namespace: ['analytics'], name: 'events' };

async function rejection(p: Promise<unknown>): Promise<IcebergError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(IcebergError);
  return err as IcebergError;
}

describeFixtures('IcebergRestClient against the test catalog', 'specs', () => {
  let catalog: IcebergCatalog;
  let client: IcebergRestClient;

  beforeAll(async () => {
    catalog = await startIcebergCatalog({
      prefix: 'cat%3Aone',
      warehouse: 'wh1',
      auth: { oauth2: { clients: [{ id: 'exporter', secret: 'exporter-secret-42' }], tokenLifetimeSeconds: 3600 } },
      vendedCredentials: { accessKeyId: 'AKVEND', secretAccessKey: 'vended-secret', sessionToken: 'sess', region: 'us-east-1' },
      idempotencyKeyLifetime: 'PT30M',
    });
    await catalog.createTable(T.namespace, T.name, {
      schema: { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'a', required: false, type: 'long' }] },
    });
    client = new IcebergRestClient(parseCatalogSettings({ uri: catalog.uri, warehouse: 'wh1', credential: 'exporter:exporter-secret-42' }, { env: {} }), {
      backoff: { baseDelayMs: 1, maxDelayMs: 5 },
    });
  });
  afterAll(async () => {
    await catalog?.close();
  });

  it('config → LoadTable (vended credentials) → CommitTable set-properties', async () => {
    const config = await client.loadConfig();
    expect(config.prefix).toBe('cat%3Aone');
    const loaded = await client.loadTable(T);
    expect(mainSnapshot(loaded.metadata)).toBeUndefined();
    const access = s3AccessFor(`${dataLocation(loaded.metadata)}/f.parquet`, loaded);
    expect(access.credentials).toMatchObject({ accessKeyId: 'AKVEND', secretAccessKey: 'vended-secret' });
    expect(access.credentials?.expiresAtMs).toBeGreaterThan(Date.now());

    const committed = await client.commitTable(T, {
      requirements: [{ type: 'assert-table-uuid', uuid: loaded.metadata.tableUuid }, { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }],
      updates: [{ action: 'set-properties', updates: { 'pinot-exporter.test': 'one' } }],
    });
    expect(committed.metadata.properties['pinot-exporter.test']).toBe('one');
    expect(committed.metadataLocation).toBe(catalog.table(T.namespace, T.name).metadataLocation);
    expect(catalog.violations).toEqual([]);
  });

  it('a 409 is ICEBERG_COMMIT_CONFLICT; a failed requirement too', async () => {
    catalog.inject({ conflicts: 1 });
    const update = { requirements: [], updates: [{ action: 'set-properties', updates: { k: 'v' } }] };
    expect((await rejection(client.commitTable(T, update))).code).toBe(ErrorCodes.ICEBERG_COMMIT_CONFLICT);
    const stale = await rejection(client.commitTable(T, { requirements: [{ type: 'assert-table-uuid', uuid: '00000000-0000-0000-0000-000000000000' }], updates: [] }));
    expect(stale.code).toBe(ErrorCodes.ICEBERG_COMMIT_CONFLICT);
    expect(stale.retryable).toBe(true);
  });

  it('5xx after the commit applied, and a dropped response, are ICEBERG_COMMIT_STATE_UNKNOWN — and the change is there', async () => {
    catalog.inject({ failAfterCommit: 1, status: 502 });
    const e1 = await rejection(client.commitTable(T, { requirements: [], updates: [{ action: 'set-properties', updates: { after5xx: 'yes' } }] }));
    expect(e1.code).toBe(ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN);
    catalog.inject({ dropResponse: 1 });
    const e2 = await rejection(client.commitTable(T, { requirements: [], updates: [{ action: 'set-properties', updates: { dropped: 'yes' } }] }));
    expect(e2.code).toBe(ErrorCodes.ICEBERG_COMMIT_STATE_UNKNOWN);
    const reloaded = await client.loadTable(T);
    expect(reloaded.metadata.properties).toMatchObject({ after5xx: 'yes', dropped: 'yes' });
  });

  it('expired tokens are replaced transparently; unknown tables name the table', async () => {
    const before = catalog.count('getToken');
    catalog.inject({ expireTokensNow: true });
    await client.loadTable(T);
    expect(catalog.count('getToken')).toBe(before + 1);
    const missing = await rejection(client.loadTable({ namespace: ['analytics'], name: 'nope' }));
    expect(missing.code).toBe(ErrorCodes.ICEBERG_CATALOG_ERROR);
    expect(missing.message).toContain('analytics.nope');
    expect(missing.message).not.toContain('exporter-secret-42');
    expect(catalog.violations).toEqual([]);
  });
});

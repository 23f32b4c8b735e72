/**
 * Routing of the test catalog: which spec operation (path template) a request path is, and its decoded
 * parameters. Pure; the catalog validates bodies against the operation found here.
 */

export interface Route {
  /** Path template as in the OpenAPI spec, e.g. `/v1/{prefix}/namespaces/{namespace}/tables/{table}`. */
  template: string;
  params: { namespace?: string[]; table?: string };
}

/**
 * `prefix` is matched verbatim (clients must insert the prefix from /v1/config as-is); '' means none, which
 * Java expresses by leaving the segment out. Namespace levels are separated by `%1F` or `separator`.
 */
export function parseRoute(method: string, pathname: string, prefix: string, separator?: string): Route | undefined {
  if (pathname === '/v1/config') return { template: '/v1/config', params: {} };
  if (pathname === '/v1/oauth/tokens') return { template: '/v1/oauth/tokens', params: {} };
  if (!pathname.startsWith('/v1/')) return undefined;
  let rest = pathname.slice(4);
  if (prefix !== '') {
    if (!rest.startsWith(`${prefix}/`)) return undefined;
    rest = rest.slice(prefix.length + 1);
  }
  const parts = rest.split('/');
  if (parts[0] !== 'namespaces') return undefined;
  const base = '/v1/{prefix}/namespaces';
  if (parts.length === 1) return { template: base, params: {} };
  const namespace = decodeNamespace(parts[1]!, separator);
  if (parts.length === 2) return { template: `${base}/{namespace}`, params: { namespace } };
  if (parts[2] !== 'tables') return undefined;
  if (parts.length === 3) return { template: `${base}/{namespace}/tables`, params: { namespace } };
  const table = decodeLevel(parts[3]!);
  if (parts.length === 4) return { template: `${base}/{namespace}/tables/{table}`, params: { namespace, table } };
  if (parts.length === 5 && parts[4] === 'credentials' && method === 'GET') {
    return { template: `${base}/{namespace}/tables/{table}/credentials`, params: { namespace, table } };
  }
  return undefined;
}

function decodeNamespace(segment: string, separator?: string): string[] {
  let parts = segment.split(/%1F/i);
  if (separator && parts.length === 1) parts = segment.split(separator);
  return parts.map(decodeLevel);
}

/** Java servers decode with URLDecoder: `+` is a space. */
function decodeLevel(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

/** Advertised in /v1/config by default. */
export const IMPLEMENTED_ENDPOINTS = [
  'GET /v1/{prefix}/namespaces',
  'POST /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'POST /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials',
];

/** Spec operations this server answers; any other route of the spec gets 501 and a recorded violation. */
export const IMPLEMENTED_OPERATIONS = new Set([
  'getConfig', 'getToken', 'listNamespaces', 'createNamespace', 'loadNamespaceMetadata', 'namespaceExists', 'listTables',
  'createTable', 'loadTable', 'tableExists', 'updateTable', 'loadCredentials',
]);

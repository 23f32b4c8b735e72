/**
 * Validates request and response bodies against an OpenAPI 3.x document (the Iceberg REST catalog spec in
 * ../shared/specs) with ajv 8. Used by the test catalog server so that every body it receives or sends is
 * checked against the published contract, not against our reading of it.
 *
 * OpenAPI specifics handled here:
 * - `$ref: '#/components/...'` resolves against the whole document (registered under one `$id`);
 *   reference objects between responses/request bodies are followed by JSON pointer;
 * - `nullable: true` is understood by ajv itself (OpenAPI extension support);
 * - `discriminator` + `mapping` without `oneOf` (Iceberg's TableRequirement, BaseUpdate, ContentFile) is
 *   turned into "when the tag has value k, the object must also match mapping[k]"; without that, a
 *   requirement such as `assert-ref-snapshot-id` missing its `snapshot-id` would pass as a bare
 *   TableRequirement. References from a subtype's `allOf` back to its base stay plain (no recursion);
 * - unknown keywords (`example`, `discriminator`, `xml` …) are ignored (`strict: false`);
 * - 64-bit integers: bodies are parsed with lossless-json, so integers arrive as `bigint` (or
 *   LosslessNumber). ajv's `integer` check only accepts JS numbers, so validation runs on a projection in
 *   which every bigint/LosslessNumber is a number; exactness is checked separately (an integer outside the
 *   signed 64-bit range is reported with its path). A bigint where the schema wants a string still fails.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { isLosslessNumber } from 'lossless-json';
import { parse as parseYaml } from 'yaml';

// ajv-formats is CommonJS with a default export; under nodenext the callable sits on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as
  (ajv: Ajv2020) => Ajv2020;

const SPEC_ID = 'openapi-spec';
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type Json = unknown;
type JsonObject = Record<string, unknown>;

export interface Operation {
  method: string;
  /** The path template as written in the spec, e.g. `/v1/{prefix}/namespaces/{namespace}/tables/{table}`. */
  template: string;
  operationId: string | undefined;
}

export class OpenApiValidator {
  readonly doc: JsonObject;
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(doc: JsonObject) {
    this.doc = rewriteDiscriminators(doc);
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true, discriminator: false });
    addFormats(this.ajv);
    this.ajv.addSchema(this.doc, SPEC_ID);
  }

  static fromFile(path: string): OpenApiValidator {
    return new OpenApiValidator(parseYaml(readFileSync(path, 'utf8')) as JsonObject);
  }

  operation(method: string, template: string): Operation | undefined {
    const op = this.operationObject(method, template);
    if (!op) return undefined;
    return { method: method.toUpperCase(), template, operationId: op.value.operationId as string | undefined };
  }

  /**
   * Errors of a request body (empty = valid). `contentType` picks the media type; a form body is passed as
   * the object of its fields. An operation without a request body accepts only an empty body.
   */
  validateRequest(method: string, template: string, contentType: string, body: Json | undefined): string[] {
    const op = this.operationObject(method, template);
    if (!op) return [`no operation ${method.toUpperCase()} ${template} in the spec`];
    const rb = op.value.requestBody;
    if (rb === undefined) return body === undefined ? [] : [`${method} ${template} takes no request body`];
    const resolved = this.deref(rb, `${op.pointer}/requestBody`);
    const required = (resolved.value as JsonObject).required === true;
    if (body === undefined) return required ? [`${method} ${template}: request body is required`] : [];
    const media = pickMedia(resolved.value as JsonObject, contentType);
    if (!media) return [`${method} ${template}: content type ${contentType || '(none)'} is not accepted`];
    return this.check(`${resolved.pointer}/content/${escapePointer(media)}/schema`, body);
  }

  /** Errors of a response (status + body); an undeclared status is an error too. */
  validateResponse(method: string, template: string, status: number, body: Json | undefined): string[] {
    const op = this.operationObject(method, template);
    if (!op) return [`no operation ${method.toUpperCase()} ${template} in the spec`];
    const responses = op.value.responses as JsonObject | undefined ?? {};
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
    if (key === undefined) return [`${method} ${template}: status ${status} is not declared`];
    const resolved = this.deref(responses[key], `${op.pointer}/responses/${escapePointer(key)}`);
    const content = (resolved.value as JsonObject).content as JsonObject | undefined;
    if (!content) return body === undefined ? [] : [`${method} ${template} ${status}: no body is declared`];
    if (body === undefined) {
      // HEAD responses never carry a body even when the spec describes one for errors.
      return method.toUpperCase() === 'HEAD' ? [] : [`${method} ${template} ${status}: body missing`];
    }
    const media = pickMedia(resolved.value as JsonObject, 'application/json');
    if (!media) return [];
    return this.check(`${resolved.pointer}/content/${escapePointer(media)}/schema`, body);
  }

  /** Errors of `value` against a named schema under `components/schemas`. */
  validateSchema(name: string, value: Json): string[] {
    return this.check(`/components/schemas/${escapePointer(name)}`, value);
  }

  private check(pointer: string, value: Json): string[] {
    let validate = this.cache.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${SPEC_ID}#${encodePointerForUri(pointer)}` });
      this.cache.set(pointer, validate);
    }
    const problems: string[] = [];
    const projected = project(value, '', problems);
    if (!validate(projected)) problems.push(...formatErrors(validate.errors ?? [], pointer));
    return problems;
  }

  private operationObject(method: string, template: string): { value: JsonObject; pointer: string } | undefined {
    const paths = this.doc.paths as JsonObject;
    const item = paths[template] as JsonObject | undefined;
    const op = item?.[method.toLowerCase()] as JsonObject | undefined;
    if (!op) return undefined;
    return { value: op, pointer: `/paths/${escapePointer(template)}/${method.toLowerCase()}` };
  }

  /** Follows OpenAPI reference objects (`{$ref}` on responses/request bodies) by JSON pointer. */
  private deref(value: unknown, pointer: string): { value: unknown; pointer: string } {
    let v = value;
    let p = pointer;
    for (let hops = 0; hops < 10 && isObject(v) && typeof v.$ref === 'string'; hops++) {
      const ref = v.$ref;
      if (!ref.startsWith('#/')) throw new Error(`openapi: external reference ${ref} is not supported`);
      p = decodeURIComponent(ref.slice(1));
      v = resolvePointer(this.doc, p);
    }
    return { value: v, pointer: p };
  }
}

function pickMedia(holder: JsonObject, contentType: string): string | undefined {
  const content = holder.content as JsonObject | undefined;
  if (!content) return undefined;
  const wanted = contentType.split(';')[0]!.trim().toLowerCase();
  if (wanted in content) return wanted;
  if (wanted === '' && 'application/json' in content) return 'application/json';
  return undefined;
}

function formatErrors(errors: ErrorObject[], pointer: string): string[] {
  // allOf/anyOf failures repeat the same leaf problem many times; keep each message once.
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue; // 'must match "then" schema' only repeats the branch's own errors
    const params = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})`
      : e.keyword === 'const' || e.keyword === 'enum' ? ` ${JSON.stringify(e.params)}` : '';
    seen.add(`${e.instancePath || '(body)'} ${e.message ?? e.keyword}${params} (schema ${e.schemaPath.startsWith('#') ? `${pointer} ${e.schemaPath}` : e.schemaPath})`);
  }
  return [...seen];
}

/** Copy with bigint/LosslessNumber as numbers; out-of-range integers are reported, not silently rounded. */
function project(value: unknown, path: string, problems: string[]): unknown {
  if (typeof value === 'bigint') {
    if (value < INT64_MIN || value > INT64_MAX) problems.push(`${path || '(body)'} integer ${value} is outside int64`);
    return Number(value);
  }
  if (isLosslessNumber(value)) {
    const text = value.toString();
    if (/^-?\d+$/.test(text)) return project(BigInt(text), path, problems);
    return Number(text);
  }
  if (Array.isArray(value)) return value.map((v, i) => project(v, `${path}/${i}`, problems));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = project(v, `${path}/${escapePointer(k)}`, problems);
    return out;
  }
  return value;
}

/**
 * For every schema with `discriminator.mapping`, adds `<Name>__discriminated` = the schema plus, per tag value,
 * "if tag = k then match mapping[k]", and points every reference to the schema at it except those made
 * from an `allOf` (the subtypes' own reference to their base, which must stay plain to avoid a loop).
 */
function rewriteDiscriminators(source: JsonObject): JsonObject {
  const doc = structuredClone(source);
  const schemas = ((doc.components as JsonObject | undefined)?.schemas ?? {}) as JsonObject;
  const redirected = new Map<string, string>();
  for (const [name, schema] of Object.entries(schemas)) {
    if (!isObject(schema) || !isObject(schema.discriminator)) continue;
    const { propertyName, mapping } = schema.discriminator as { propertyName?: string; mapping?: Record<string, string> };
    if (!propertyName || !mapping || Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) continue;
    const ref = `#/components/schemas/${name}`;
    const target = `${name}__discriminated`;
    schemas[target] = {
      allOf: [
        { $ref: ref },
        ...Object.entries(mapping).map(([tag, mapped]) => ({
          if: { properties: { [propertyName]: { const: tag } }, required: [propertyName] },
          then: { $ref: mapped },
        })),
      ],
    };
    redirected.set(ref, `#/components/schemas/${target}`);
  }
  redirectRefs(doc, redirected, false);
  for (const schema of Object.values(schemas)) if (isObject(schema)) tagAlternatives(schema, schemas);
  return doc;
}

/**
 * `anyOf`/`oneOf` of references whose targets each fix the same property to a distinct `const` (TableUpdate:
 * `action`) becomes "tag in the known values, and the branch for that tag": same meaning, but an error
 * names the one branch that applies instead of listing why each of 23 alternatives failed.
 */
function tagAlternatives(schema: JsonObject, schemas: JsonObject): void {
  for (const key of ['anyOf', 'oneOf'] as const) {
    const alts = schema[key];
    if (!Array.isArray(alts) || alts.length < 2) continue;
    const targets = alts.map((a) => (isObject(a) && typeof a.$ref === 'string' && a.$ref.startsWith('#/components/schemas/')
      ? schemas[a.$ref.slice('#/components/schemas/'.length)] : undefined));
    const props = targets.map((t) => (isObject(t) && isObject(t.properties) ? t.properties : undefined));
    const first = props[0];
    if (!first) continue;
    const tag = Object.keys(first).find((p) => props.every((pr) => isObject(pr?.[p]) && (pr[p] as JsonObject).const !== undefined));
    if (!tag) continue;
    const values = props.map((pr) => (pr![tag] as JsonObject).const);
    if (new Set(values).size !== values.length) continue;
    delete schema[key];
    schema.required = [...new Set([...(Array.isArray(schema.required) ? schema.required : []), tag])];
    schema.properties = { ...(isObject(schema.properties) ? schema.properties : {}), [tag]: { enum: values } };
    schema.allOf = [
      ...(Array.isArray(schema.allOf) ? schema.allOf : []),
      ...alts.map((a, i) => ({ if: { properties: { [tag]: { const: values[i] } }, required: [tag] }, then: a })),
    ];
  }
}

function redirectRefs(node: unknown, redirected: Map<string, string>, keepRef: boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) redirectRefs(item, redirected, keepRef);
    return;
  }
  if (!isObject(node)) return;
  if (typeof node.$ref === 'string' && !keepRef) {
    const to = redirected.get(node.$ref);
    if (to) node.$ref = to;
  }
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref') continue;
    // Only the direct members of an allOf keep their plain reference; anything deeper is redirected.
    if (k === 'allOf' && Array.isArray(v)) {
      for (const member of v) {
        if (isObject(member) && typeof member.$ref === 'string') continue;
        redirectRefs(member, redirected, false);
      }
      continue;
    }
    redirectRefs(v, redirected, false);
  }
}

function resolvePointer(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(v) && !Array.isArray(v)) throw new Error(`openapi: pointer ${pointer} does not resolve`);
    v = (v as Record<string, unknown>)[key];
  }
  if (v === undefined) throw new Error(`openapi: pointer ${pointer} does not resolve`);
  return v;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function encodePointerForUri(pointer: string): string {
  return pointer.split('/').map((s) => encodeURIComponent(s)).join('/');
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

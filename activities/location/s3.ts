/**
 * The few S3 calls Cairn makes itself (kopia talks to S3 on its own): reading and writing the small files of
 * a location (wrapped keys, restore-point manifests) and listing them. Signature V4, path-style addressing,
 * on node:http(s) so TLS verification can be switched off per profile. Error messages name the endpoint and
 * bucket, never the credentials.
 */
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Bucket {
  /** `http(s)://host[:port]`. */
  endpoint: string;
  region: string;
  bucket: string;
  skipTLSVerify?: boolean;
}

/** A refusal or failure of the S3 service: its error code (`AccessDenied`, `NoSuchBucket`, ...) and HTTP status. */
export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  constructor(message: string, code: string, status: number) {
    super(message);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
  }
}

/** Codes S3 gives when the credentials are wrong or lack a permission (XAdminUserNotFound: versitygw's unknown key). */
export const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'XAdminUserNotFound']);

export interface S3Object {
  key: string;
  size: number;
}

interface S3Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export class S3Client {
  readonly bucket: S3Bucket;
  readonly #credentials: S3Credentials;
  readonly #url: URL;

  constructor(bucket: S3Bucket, credentials: S3Credentials) {
    this.bucket = bucket;
    this.#credentials = credentials;
    this.#url = new URL(bucket.endpoint);
  }

  /** The object's bytes, or undefined when there is no such key. */
  async get(key: string): Promise<Buffer | undefined> {
    const response = await this.#send('GET', key, {});
    // Only a missing key is "no such object": some gateways answer an unknown access key with 404 too.
    if (response.status === 404 && (errorCode(response) ?? 'NoSuchKey') === 'NoSuchKey') return undefined;
    this.#check(response, `GET ${key}`);
    return response.body;
  }

  async exists(key: string): Promise<boolean> {
    const response = await this.#send('HEAD', key, {});
    if (response.status === 404) return false;
    this.#check(response, `HEAD ${key}`);
    return true;
  }

  /**
   * Stores the object whole (an S3 PUT is atomic: readers and listings see the old object or the new one).
   * With `ifAbsent`, an existing key is left alone and the call returns false (conditional write).
   */
  async put(key: string, body: Buffer, options: { ifAbsent?: boolean; contentType?: string } = {}): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/octet-stream' };
    if (options.ifAbsent) headers['if-none-match'] = '*';
    const response = await this.#send('PUT', key, {}, headers, body);
    if (options.ifAbsent && response.status === 412) return false;
    this.#check(response, `PUT ${key}`);
    return true;
  }

  async delete(key: string): Promise<void> {
    const response = await this.#send('DELETE', key, {});
    if (response.status === 404) return;
    this.#check(response, `DELETE ${key}`);
  }

  /** Every object under `prefix` (all pages), in key order. */
  async list(prefix: string): Promise<S3Object[]> {
    const objects: S3Object[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': '1000' };
      if (token) query['continuation-token'] = token;
      const response = await this.#send('GET', '', query);
      this.#check(response, `LIST ${prefix}`);
      const xml = response.body.toString('utf8');
      for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = xmlText(match[1]!, 'Key');
        if (key !== undefined) objects.push({ key, size: Number(xmlText(match[1]!, 'Size') ?? 0) });
      }
      token = xmlText(xml, 'IsTruncated') === 'true' ? xmlText(xml, 'NextContinuationToken') : undefined;
    } while (token);
    return objects;
  }

  /** Creates the bucket (tests and first-time setup); `objectLock` turns S3 Object Lock on for it. */
  async createBucket(options: { objectLock?: boolean } = {}): Promise<void> {
    const headers: Record<string, string> = options.objectLock ? { 'x-amz-bucket-object-lock-enabled': 'true' } : {};
    const response = await this.#send('PUT', undefined, {}, headers);
    if (response.status === 409 && errorCode(response) === 'BucketAlreadyOwnedByYou') return;
    this.#check(response, 'create bucket');
  }

  /** Deletes the (empty) bucket. */
  async deleteBucket(): Promise<void> {
    const response = await this.#send('DELETE', undefined, {});
    if (response.status === 404) return;
    this.#check(response, 'delete bucket');
  }

  #check(response: S3Response, what: string): void {
    if (response.status >= 200 && response.status < 300) return;
    const code = errorCode(response) ?? `HTTP${response.status}`;
    const message = xmlText(response.body.toString('utf8'), 'Message');
    throw new S3Error(`S3 ${this.bucket.endpoint} bucket ${this.bucket.bucket}: ${what} failed: ${code}${message ? ` (${message})` : ''}`, code, response.status);
  }

  /** `key` undefined addresses the bucket itself. */
  #send(method: string, key: string | undefined, query: Record<string, string>, extraHeaders: Record<string, string> = {}, body: Buffer = Buffer.alloc(0)): Promise<S3Response> {
    const path = `/${encodeSegment(this.bucket.bucket)}${key === undefined ? '' : `/${key.split('/').map(encodeSegment).join('/')}`}`;
    const queryString = Object.keys(query)
      .sort()
      .map((name) => `${encodeSegment(name)}=${encodeSegment(query[name]!)}`)
      .join('&');
    const headers = signedHeaders(method, this.#url.host, path, queryString, extraHeaders, body, this.bucket.region, this.#credentials);
    const secure = this.#url.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          method,
          protocol: this.#url.protocol,
          hostname: this.#url.hostname,
          port: this.#url.port || (secure ? 443 : 80),
          path: queryString ? `${path}?${queryString}` : path,
          headers: { ...headers, 'content-length': String(body.length) },
          ...(secure && this.bucket.skipTLSVerify ? { rejectUnauthorized: false } : {}),
          timeout: 60_000,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.once('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks) }));
          incoming.once('error', reject);
        },
      );
      outgoing.once('timeout', () => outgoing.destroy(new Error('no answer within 60s')));
      outgoing.once('error', (error: NodeJS.ErrnoException) =>
        reject(new S3Error(`cannot reach S3 endpoint ${this.bucket.endpoint}: ${error.code ?? error.message}`, error.code ?? 'NetworkError', 0)),
      );
      outgoing.end(body);
    });
  }
}

function errorCode(response: S3Response): string | undefined {
  return xmlText(response.body.toString('utf8'), 'Code');
}

/** AWS Signature Version 4 headers for one request (service s3, payload hashed). */
export function signedHeaders(
  method: string,
  host: string,
  path: string,
  queryString: string,
  extra: Record<string, string>,
  body: Buffer,
  region: string,
  credentials: S3Credentials,
  now = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...extra, host, 'x-amz-date': amzDate, 'x-amz-content-sha256': sha256(body) };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v.trim().replace(/\s+/g, ' ')]));
  const canonical = [method, path, queryString, names.map((n) => `${n}:${lower[n]}\n`).join(''), names.join(';'), headers['x-amz-content-sha256']].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(Buffer.from(canonical))].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  if (!match) return undefined;
  return match[1]!
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

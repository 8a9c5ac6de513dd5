// The serving certificate of the secure metrics endpoint: tls.crt and tls.key from a directory (a
// mounted kubernetes.io/tls Secret, re-read so a rotated Secret is picked up), or a self-signed one
// made at start-up as controller-runtime does when no certificate directory is given.
//
// node:crypto makes keys and signatures but has no certificate builder, so the DER of the one fixed
// certificate shape needed here is written below (ASN.1 tag-length-value, X.509 v3, ECDSA P-256 with
// SHA-256) rather than adding a certificate library and its dependencies to the operator image.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface ServingCert {
  cert: string;
  key: string;
}

/** Reads tls.crt and tls.key from `dir`; throws a message naming the file and what is wrong. */
export function loadServingCert(dir: string): ServingCert {
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (err) {
      throw new Error(`METRICS_CERT_DIR=${dir}: cannot read ${name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const cert = read('tls.crt');
  const key = read('tls.key');
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('tls.key does not match tls.crt');
  } catch (err) {
    throw new Error(`METRICS_CERT_DIR=${dir}: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key };
}

// DER: tag, definite length, content.
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const v of rest) {
    const base128 = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) base128.unshift(0x80 | (x & 0x7f));
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}
const utcTime = (d: Date) =>
  tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z', 'ascii'));
const name = (cn: string) => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/**
 * A self-signed serving certificate for localhost, 127.0.0.1 and the host name, valid for a year
 * from an hour ago (clock skew). Prometheus scrapes pod IPs, so its ServiceMonitor skips verification
 * of this certificate; a verifiable one comes from METRICS_CERT_DIR.
 */
export function selfSignedCert(dnsNames: string[] = ['localhost', hostname()], days = 365): ServingCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(notBefore.getTime() + days * 86400_000);
  const sans = seq(
    ...[...new Set(dnsNames)].map((n) => tlv(0x82, Buffer.from(n, 'ascii'))),
    tlv(0x87, Buffer.from([127, 0, 0, 1])),
  );
  const tbs = seq(
    explicit(0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ECDSA_SHA256,
    name(dnsNames[0] ?? 'localhost'),
    seq(utcTime(notBefore), utcTime(notAfter)),
    name(dnsNames[0] ?? 'localhost'),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      seq(
        extension('2.5.29.19', true, seq()),
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))),
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
        extension('2.5.29.17', false, sans),
      ),
    ),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

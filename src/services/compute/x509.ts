import { generateKeyPair, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';

const genKeyPair = promisify(generateKeyPair);

// A minimal DER writer: just the ASN.1 types a self-signed X.509 v3 certificate needs (node:crypto parses
// certificates but cannot make one, and Nova's own generator is the openssl command line).
function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : (() => {
          const bytes: number[] = [];
          for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
          return Buffer.from([0x80 | bytes.length, ...bytes]);
        })();
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const nullDer = Buffer.from([0x05, 0x00]);
const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));
const bitString = (b: Buffer) => der(0x03, Buffer.concat([Buffer.from([0]), b]));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const v of rest) {
    const chunk: number[] = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

function integer(b: Buffer): Buffer {
  const body = b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  return der(0x02, body);
}

/** UTCTime (YYMMDDHHMMSSZ) for years before 2050, GeneralizedTime after, as RFC 5280 says. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`));
}

const SHA256_WITH_RSA = seq(oid('1.2.840.113549.1.1.11'), nullDer);

function name(parts: [string, string][]): Buffer {
  return seq(...parts.map(([type, value]) => set(seq(oid(type), utf8(value)))));
}

const pem = (label: string, body: Buffer) =>
  `-----BEGIN ${label}-----\n${body
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

/**
 * A new RSA key and a self-signed certificate for it, as Nova makes for `os-keypairs` type x509 without a public key:
 * the certificate is the key pair's public part, the private key is returned once. Valid for 10 years.
 */
export async function generateX509KeyPair(commonName: string): Promise<{ certificate: string; privateKey: string }> {
  const { publicKey, privateKey } = await genKeyPair('rsa', { modulusLength: 2048 });
  const subject = name([
    ['2.5.4.6', 'US'],
    ['2.5.4.10', 'OpenStack'],
    ['2.5.4.3', commonName],
  ]);
  const now = new Date();
  const tbs = seq(
    der(0xa0, integer(Buffer.from([2]))), // [0] EXPLICIT version v3
    integer(randomBytes(16)),
    SHA256_WITH_RSA,
    subject,
    seq(time(now), time(new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = seq(tbs, SHA256_WITH_RSA, bitString(signature));
  return {
    certificate: pem('CERTIFICATE', cert),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

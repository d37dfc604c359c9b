// Extracts llama.cpp's reference tokenisations (models/ggml-vocab-*.gguf.inp/.out) from the git bundle
// that npm `node-llama-cpp@3.21.1` ships as `llama/gitRelease.bundle`, without a git binary.
//
// Usage (once, offline apart from the npm registry; the output is committed as test fixtures):
//   cd /tmp && npm pack node-llama-cpp@3.21.1 && tar xzf node-llama-cpp-3.21.1.tgz package/llama/gitRelease.bundle
//   node --import tsx packages/checkpoint/scripts/extract-llama-cpp-vocab-tests.ts \
//     /tmp/package/llama/gitRelease.bundle packages/checkpoint/test/fixtures/llama-cpp \
//     ggml-vocab-llama-spm.gguf ggml-vocab-llama-spm.gguf.inp ggml-vocab-llama-spm.gguf.out
//
// A bundle is "# v2 git bundle\n<sha> <ref>\n...\n\n" followed by a packfile; we parse the pack, resolve
// deltas, hash every object, then walk HEAD's commit → tree → models/ and copy the requested files.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

const [bundlePath, outDir, ...files] = process.argv.slice(2);
if (!bundlePath || !outDir || files.length === 0) {
  console.error('usage: extract-llama-cpp-vocab-tests.ts <gitRelease.bundle> <outDir> <file in models/>...');
  process.exit(2);
}
const buf = readFileSync(bundlePath);
let pos = 0;
const readLine = (): string => {
  const end = buf.indexOf(0x0a, pos);
  const line = buf.subarray(pos, end).toString('utf8');
  pos = end + 1;
  return line;
};
if (readLine() !== '# v2 git bundle') throw new Error('not a v2 git bundle');
let headSha = '';
for (let line = readLine(); line !== ''; line = readLine()) {
  const [sha, ref] = line.split(' ');
  if (ref === 'HEAD' || !headSha) headSha = sha;
}
if (buf.toString('latin1', pos, pos + 4) !== 'PACK') throw new Error('no packfile after bundle header');
const count = buf.readUInt32BE(pos + 8);
pos += 12;

type Raw = { type: number; data: Buffer; baseOffset?: number; baseSha?: string };
const TYPE_NAMES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const byOffset = new Map<number, Raw>();
for (let i = 0; i < count; i++) {
  const start = pos;
  let c = buf[pos++];
  const type = (c >> 4) & 7;
  while (c & 0x80) c = buf[pos++];
  const raw: Raw = { type, data: Buffer.alloc(0) };
  if (type === 6) {
    c = buf[pos++];
    let off = c & 0x7f;
    while (c & 0x80) {
      c = buf[pos++];
      off = ((off + 1) << 7) | (c & 0x7f);
    }
    raw.baseOffset = start - off;
  } else if (type === 7) {
    raw.baseSha = buf.toString('hex', pos, pos + 20);
    pos += 20;
  }
  const res = inflateSync(buf.subarray(pos), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  raw.data = res.buffer;
  pos += res.engine.bytesWritten;
  byOffset.set(start, raw);
}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      b = delta[p++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  varint(); // base size
  const out = Buffer.alloc(varint());
  let o = 0;
  while (p < delta.length) {
    const op = delta[p++];
    if (op & 0x80) {
      let off = 0;
      let size = 0;
      for (let k = 0; k < 4; k++) if (op & (1 << k)) off += delta[p++] * 2 ** (8 * k);
      for (let k = 0; k < 3; k++) if (op & (0x10 << k)) size += delta[p++] * 2 ** (8 * k);
      if (size === 0) size = 0x10000;
      base.copy(out, o, off, off + size);
      o += size;
    } else {
      delta.copy(out, o, p, p + op);
      o += op;
      p += op;
    }
  }
  return out;
}

const resolved = new Map<number, { type: number; data: Buffer }>();
const bySha = new Map<string, { type: number; data: Buffer }>();
const pendingRef: number[] = [];
function resolve(offset: number): { type: number; data: Buffer } | undefined {
  const hit = resolved.get(offset);
  if (hit) return hit;
  const raw = byOffset.get(offset)!;
  let obj: { type: number; data: Buffer } | undefined;
  if (raw.type === 6) {
    const base = resolve(raw.baseOffset!);
    if (base) obj = { type: base.type, data: applyDelta(base.data, raw.data) };
  } else if (raw.type === 7) {
    const base = bySha.get(raw.baseSha!);
    if (base) obj = { type: base.type, data: applyDelta(base.data, raw.data) };
  } else obj = { type: raw.type, data: raw.data };
  if (obj) {
    resolved.set(offset, obj);
    const sha = createHash('sha1').update(`${TYPE_NAMES[obj.type]} ${obj.data.length}\0`).update(obj.data).digest('hex');
    bySha.set(sha, obj);
  }
  return obj;
}
for (const offset of byOffset.keys()) if (!resolve(offset)) pendingRef.push(offset);
for (let guard = 0; pendingRef.length && guard < 100; guard++) {
  for (let i = pendingRef.length - 1; i >= 0; i--) if (resolve(pendingRef[i])) pendingRef.splice(i, 1);
}

function treeEntries(sha: string): Map<string, string> {
  const tree = bySha.get(sha);
  if (!tree || tree.type !== 2) throw new Error(`tree ${sha} missing`);
  const entries = new Map<string, string>();
  let p = 0;
  while (p < tree.data.length) {
    const sp = tree.data.indexOf(0x20, p);
    const nul = tree.data.indexOf(0, sp);
    entries.set(tree.data.toString('utf8', sp + 1, nul), tree.data.toString('hex', nul + 1, nul + 21));
    p = nul + 21;
  }
  return entries;
}
const commit = bySha.get(headSha);
if (!commit) throw new Error(`HEAD commit ${headSha} not in pack`);
const rootTree = /^tree ([0-9a-f]{40})/.exec(commit.data.toString('utf8'))![1];
const models = treeEntries(treeEntries(rootTree).get('models')!);
mkdirSync(outDir, { recursive: true });
for (const name of files) {
  const sha = models.get(name);
  if (!sha) throw new Error(`${name} not in models/ of ${headSha}`);
  writeFileSync(join(outDir, name), bySha.get(sha)!.data);
  console.log(`${name}  blob ${sha}  (llama.cpp commit ${headSha})`);
}

// The manifest of a finished teacher-signal run: every shard with its checksum, written last and atomically, so a
// folder with a manifest is complete; training verifies it before reading any shard.
import { writeFileAtomic } from '@mil/checkpoint';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FanoutError } from './errors';
import { sha256File } from './hash';
import type { ShardJob, TeacherSignalSettings } from './shard-plan';
import { shardFileName } from './shard-plan';

export const MANIFEST_FILE = 'manifest.json';

/** manifest.json: names are relative to the run folder, so the folder can move. No timestamps: equal runs give equal bytes. */
export interface TeacherSignalManifest {
  kind: 'teacher-signal';
  version: 1;
  corpus: { file: string; sha256: string; tokens: number };
  settings: TeacherSignalSettings;
  shards: { id: string; index: number; file: string; sha256: string; windowStart: number; windowEnd: number }[];
}

/**
 * Hashes every shard file of `jobs` in `dir` and writes manifest.json atomically.
 *
 * @example
 * const m = await writeManifest('runs/signal', jobs);
 */
export async function writeManifest(dir: string, jobs: readonly ShardJob[]): Promise<TeacherSignalManifest> {
  if (jobs.length === 0) throw new FanoutError('BAD_OPTION', `${dir}: a manifest needs at least one shard`);
  const c = jobs[0].corpus;
  const shards = [];
  for (const j of jobs) {
    const file = shardFileName(j);
    const sha256 = await sha256File(join(dir, file)).catch((e: unknown) => {
      throw new FanoutError('MANIFEST_MISMATCH', `${join(dir, file)}: shard ${j.index} is missing (${(e as Error).message})`, { cause: e });
    });
    shards.push({ id: j.id, index: j.index, file, sha256, windowStart: j.windowStart, windowEnd: j.windowEnd });
  }
  const manifest: TeacherSignalManifest = {
    kind: 'teacher-signal',
    version: 1,
    corpus: { file: basename(c.file), sha256: c.sha256, tokens: c.tokens },
    settings: jobs[0].settings,
    shards,
  };
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Reads manifest.json of `dir` and re-hashes the corpus and every shard; throws MANIFEST_MISMATCH naming the first
 * file that is missing or differs. Returns the manifest with absolute shard paths resolved by the caller via `dir`.
 *
 * @example
 * const m = await verifyManifest('runs/signal'); // then read join(dir, m.shards[i].file)
 */
export async function verifyManifest(dir: string): Promise<TeacherSignalManifest> {
  const path = join(dir, MANIFEST_FILE);
  let m: TeacherSignalManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as TeacherSignalManifest;
  } catch (e) {
    throw new FanoutError('MANIFEST_MISMATCH', `${path}: cannot read the manifest (${(e as Error).message}); the run did not finish`, { cause: e });
  }
  if (m.kind !== 'teacher-signal' || m.version !== 1 || !Array.isArray(m.shards)) throw new FanoutError('MANIFEST_MISMATCH', `${path}: not a version-1 teacher-signal manifest`);
  for (const f of [{ file: m.corpus.file, sha256: m.corpus.sha256 }, ...m.shards]) {
    const p = join(dir, f.file);
    const got = await sha256File(p).catch(() => 'missing');
    if (got !== f.sha256) throw new FanoutError('MANIFEST_MISMATCH', `${p}: sha256 ${got} differs from the manifest's ${f.sha256}`);
  }
  return m;
}

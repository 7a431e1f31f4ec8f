import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * An async task's uploaded files carried in its BullMQ job (base64), so the replica that runs
 * the task has them though another one received the upload. They are bounded by the upload
 * limits (`limits.uploadTotalBytes`, `limits.uploadFiles`), and leave Redis with the job.
 */
export interface JobUploads {
  /** The folder the files were received in, as the task's kwargs name them. */
  receivedIn: string;
  files: { relativePath: string; base64: string }[];
}

/** Reads every file of an upload folder. */
export async function packUploads(dir: string): Promise<JobUploads> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const file = path.join(entry.parentPath, entry.name);
        return { relativePath: path.relative(dir, file), base64: (await readFile(file)).toString('base64') };
      }),
  );
  return { receivedIn: dir, files };
}

/** Writes the files into `dir` (replacing whatever it held). */
export async function unpackUploads(uploads: JobUploads, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const file of uploads.files) {
    const target = path.join(dir, file.relativePath);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, Buffer.from(file.base64, 'base64'));
  }
}

/**
 * The kwargs with the uploaded files' paths (`files[].filePath`, CONTRACT section 4) moved from
 * the folder they were received in to `dir`, where this replica restored them.
 */
export function kwargsWithUploadsIn(kwargs: Record<string, unknown>, uploads: JobUploads, dir: string): Record<string, unknown> {
  if (!Array.isArray(kwargs.files) || uploads.receivedIn === dir) return kwargs;
  const files = kwargs.files.map((file: unknown) => {
    if (typeof file !== 'object' || file === null || typeof (file as { filePath?: unknown }).filePath !== 'string') return file;
    const relative = path.relative(uploads.receivedIn, (file as { filePath: string }).filePath);
    return { ...file, filePath: path.join(dir, relative) };
  });
  return { ...kwargs, files };
}

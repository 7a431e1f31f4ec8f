import { constants } from 'node:fs';
import { type FileHandle, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { GitfuncError } from '../errors.js';

/** Why a DFF.RESP_FILE or other response control was not followed; the call fails with it. */
export class ResponseRefused extends GitfuncError {
  constructor(message: string) {
    super('RESPONSE_REFUSED', message);
    this.name = 'ResponseRefused';
  }
}

/** Where a call may serve files from (CONTRACT section 9). */
export interface FileRoots {
  /** The revision's directory: its `resources/` folder is served, nothing else of it. */
  revisionDir: string;
  /** The call's own upload folder, if it has one. */
  uploadDir?: string;
}

/** A file opened for streaming; the handle stays valid even if the file is deleted meanwhile. */
export interface ServedFile {
  handle: FileHandle;
  size: number;
  name: string;
  /** Deleted after streaming when the script asked for it (only upload-folder files). */
  deletable: boolean;
  realPath: string;
}

async function realOrUndefined(dir: string): Promise<string | undefined> {
  try {
    return await realpath(dir);
  } catch {
    return undefined; // no resources/ folder, or no upload folder: nothing served from it
  }
}

function isInside(file: string, root: string | undefined): boolean {
  return root !== undefined && file.startsWith(root + path.sep);
}

/**
 * Opens the file a script asked to answer with, if it really lies inside the revision's
 * `resources/` folder or the call's upload folder: the path is resolved with every symlink
 * followed, so `../`, absolute paths and links pointing out are all refused. A relative path
 * is read from the revision's root.
 */
export async function openServedFile(requested: string, roots: FileRoots): Promise<ServedFile> {
  const candidate = path.resolve(roots.revisionDir, requested);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new ResponseRefused(`DFF.RESP_FILE: no such file: ${requested}`);
  }
  const resources = await realOrUndefined(path.join(roots.revisionDir, 'resources'));
  const uploads = roots.uploadDir === undefined ? undefined : await realOrUndefined(roots.uploadDir);
  const inUploads = isInside(real, uploads);
  if (!inUploads && !isInside(real, resources)) {
    throw new ResponseRefused(`DFF.RESP_FILE: ${requested} is outside the revision's resources/ folder and the call's upload folder`);
  }
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a link swapped in after the check is refused, not followed.
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    throw new ResponseRefused(`DFF.RESP_FILE: ${requested} cannot be opened`);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new ResponseRefused(`DFF.RESP_FILE: ${requested} is not a file`);
  }
  return { handle, size: stat.size, name: path.basename(real), deletable: inUploads, realPath: real };
}

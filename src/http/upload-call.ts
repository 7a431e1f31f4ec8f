import type { IncomingMessage } from 'node:http';
import type { UploadFolders } from '../uploads/upload-folders.js';
import { type MultipartBody, readMultipartBody, type UploadLimits } from './multipart-body.js';

/** What the API routes need to take uploads. */
export interface UploadSupport {
  folders: UploadFolders;
  limits: UploadLimits;
}

/** A multipart body received; `uploadDir` is set when files were uploaded. */
export interface ReceivedUpload extends MultipartBody {
  uploadDir: string | undefined;
}

/**
 * Streams a multipart call's files into the upload folder of task `taskId` (CONTRACT section
 * 4). On any error the folder is gone before this rejects; a body without files leaves none.
 */
export async function receiveUpload(req: IncomingMessage, taskId: string, uploads: UploadSupport): Promise<ReceivedUpload> {
  const dir = await uploads.folders.create(taskId);
  try {
    const body = await readMultipartBody(req, dir, uploads.limits);
    const uploadDir = body.files.length > 0 ? dir : undefined;
    if (uploadDir === undefined) await uploads.folders.remove(taskId);
    return { ...body, uploadDir };
  } catch (error) {
    await uploads.folders.remove(taskId);
    throw error;
  }
}

import type { IncomingMessage } from 'node:http';
import type { UploadFolders } from '../uploads/upload-folders.js';
import { type CallForm, type CallInput, multipartInput } from './call-input.js';
import { type MultipartBody, readMultipartBody, type UploadLimits } from './multipart-body.js';

/** What the API routes need to take uploads. */
export interface UploadSupport {
  folders: UploadFolders;
  limits: UploadLimits;
}

/** A multipart call's input; `uploadDir` is set when files were uploaded. */
export interface UploadInput {
  input: CallInput;
  fields: MultipartBody['fields'];
  uploadDir: string | undefined;
}

/**
 * Streams a multipart call's files into the upload folder of task `taskId` and turns the body
 * into kwargs (CONTRACT section 4). On any error the folder is gone before this rejects; a
 * body without files leaves no folder.
 */
export async function readUploadInput(req: IncomingMessage, form: CallForm, taskId: string, uploads: UploadSupport): Promise<UploadInput> {
  const dir = await uploads.folders.create(taskId);
  try {
    const body = await readMultipartBody(req, dir, uploads.limits);
    const input = multipartInput(form, body);
    const uploadDir = body.files.length > 0 ? dir : undefined;
    if (uploadDir === undefined) await uploads.folders.remove(taskId);
    return { input, fields: body.fields, uploadDir };
  } catch (error) {
    await uploads.folders.remove(taskId);
    throw error;
  }
}

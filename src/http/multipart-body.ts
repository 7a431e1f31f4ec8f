import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Fields, FormidableError, Options, Part } from 'formidable';
import { loadDriver } from '../errors.js';
import { ApiError, ApiErrors } from './api-error.js';

/** An uploaded file as the function gets it in `files` (CONTRACT section 4, DFF's names). */
export interface UploadedFile {
  filePath: string;
  originalname: string;
  encoding: string;
  mimetype: string;
  size: number;
}

/** A multipart body: its text fields (repeated names become lists) and its files, in order. */
export interface MultipartBody {
  fields: Record<string, string | string[]>;
  files: UploadedFile[];
}

/** Limits of one multipart body, in bytes and files. */
export interface UploadLimits {
  fileBytes: number;
  totalBytes: number;
  files: number;
  /** All text fields together. */
  fieldBytes: number;
}

/** Extensions kept on stored names: short, ASCII, so nothing in a name can surprise a path. */
const SAFE_EXTENSION = /^\.[A-Za-z0-9]{1,16}$/;

/**
 * Fields formidable 3 sets that @types/formidable 3.5 leaves out: where a file part is written,
 * and a part's own MIME headers.
 */
type WrittenFile = Parameters<NonNullable<Options['fileWriteStreamHandler']>>[0] & { filepath: string };
type PartWithHeaders = Part & { headers: Record<string, string | undefined> };

/** Raised by a file's write stream as the file passes `limits.uploadFileBytes`. */
class FileTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`An uploaded file is larger than ${limitBytes} bytes`);
  }
}

/**
 * Streams a multipart body's files into `dir` under generated names, and refuses it as soon as
 * a limit is passed (413.1 / 413.2 / 413.3) or the body is malformed (400.43). On any error
 * every file written so far is closed before this rejects, so the caller can remove `dir`
 * knowing nothing is still being written into it.
 */
export async function readMultipartBody(req: IncomingMessage, dir: string, limits: UploadLimits): Promise<MultipartBody> {
  const opened: WriteStream[] = [];
  const parts = new Map<string, StoredPart>();
  // Indexed by part order: a small file written after a big one can finish first.
  const files: UploadedFile[] = [];
  // Imported at the first upload: most servers never get one, and it cost every start's imports ~40 ms.
  const { default: formidable, errors, multipart } = await loadDriver('formidable (multipart bodies)', () => import('formidable'));
  const form = formidable({
    uploadDir: dir,
    enabledPlugins: [multipart],
    maxFiles: limits.files,
    // Formidable checks maxFileSize only once a file is complete; the write stream below stops
    // an oversize file as it passes the limit. maxTotalFileSize is checked as data arrives.
    maxFileSize: limits.fileBytes,
    maxTotalFileSize: limits.totalBytes,
    maxFieldsSize: limits.fieldBytes,
    allowEmptyFiles: true,
    minFileSize: 0,
    filename: (_name, _ext, part) => storedName(part, parts),
    fileWriteStreamHandler: (file) => cappedFileStream((file as WrittenFile).filepath, limits.fileBytes, opened),
  });
  form.on('file', (_field, file) => {
    const part = parts.get(file.newFilename)!;
    files[part.index] = {
      filePath: file.filepath,
      originalname: file.originalFilename ?? '',
      encoding: part.encoding,
      mimetype: file.mimetype ?? 'application/octet-stream',
      size: file.size,
    };
  });
  let fields: Fields;
  try {
    [fields] = await form.parse(req);
  } catch (error) {
    // Formidable stops listening; read the rest to nowhere so the answer reaches the client.
    req.resume();
    // Formidable may open a file after it failed (a file past `maxFiles`) and never close it.
    for (const stream of opened) stream.destroy();
    throw multipartError(error, limits, errors);
  } finally {
    await Promise.all(opened.map((stream) => (stream.closed ? undefined : once(stream, 'close'))));
  }
  return { fields: flattenFields(fields), files };
}

/** A file part as it began: its place in the body and its transfer encoding. */
interface StoredPart {
  index: number;
  encoding: string;
}

/** `upload-<n><ext>`: the original name stays in `originalname` only. */
function storedName(part: Part, parts: Map<string, StoredPart>): string {
  const ext = path.extname(part.originalFilename ?? '');
  const index = parts.size;
  const name = `upload-${index + 1}${SAFE_EXTENSION.test(ext) ? ext : ''}`;
  parts.set(name, { index, encoding: (part as PartWithHeaders).headers['content-transfer-encoding'] ?? '7bit' });
  return name;
}

/** A file's write stream that fails once more than `limitBytes` reach it. */
function cappedFileStream(filePath: string, limitBytes: number, opened: WriteStream[]): Writable {
  const file = createWriteStream(filePath, { flags: 'wx' });
  opened.push(file);
  let written = 0;
  const capped = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written += chunk.length;
      if (written > limitBytes) done(new FileTooLargeError(limitBytes));
      else file.write(chunk, done);
    },
    final(done) {
      file.end(done);
    },
    destroy(error, done) {
      file.destroy();
      done(error);
    },
  });
  file.on('error', (error) => capped.destroy(error));
  return capped;
}

function flattenFields(fields: Fields): Record<string, string | string[]> {
  const flat: Record<string, string | string[]> = {};
  for (const [name, values = []] of Object.entries(fields)) flat[name] = values.length === 1 ? values[0]! : values;
  return flat;
}

function isFormidableError(error: unknown): error is FormidableError {
  return error instanceof Error && typeof (error as Partial<FormidableError>).httpCode === 'number';
}

/** formidable's error codes (its `errors` export). */
type FormidableErrorCodes = typeof import('formidable').errors;

/** A DFF error for a refused multipart body; anything else (a disk error) is the server's own. */
function multipartError(error: unknown, limits: UploadLimits, errors: FormidableErrorCodes): unknown {
  // Close the connection: the rest of a refused upload is not worth reading.
  const close = { Connection: 'close' };
  if (error instanceof FileTooLargeError) {
    return new ApiError(ApiErrors.uploadFileTooLarge, error.message, { limitBytes: limits.fileBytes }, close);
  }
  if (!isFormidableError(error)) return error;
  switch (error.code) {
    case errors.biggerThanMaxFileSize:
      return new ApiError(ApiErrors.uploadFileTooLarge, `An uploaded file is larger than ${limits.fileBytes} bytes`, { limitBytes: limits.fileBytes }, close);
    case errors.maxFilesExceeded:
      return new ApiError(ApiErrors.tooManyUploadFiles, `More than ${limits.files} files uploaded at once`, { limitFiles: limits.files }, close);
    case errors.biggerThanTotalMaxFileSize:
      return new ApiError(ApiErrors.bodyTooLarge, `Uploaded files total more than ${limits.totalBytes} bytes`, { limitBytes: limits.totalBytes }, close);
    case errors.maxFieldsSizeExceeded:
      return new ApiError(ApiErrors.bodyTooLarge, `Text fields total more than ${limits.fieldBytes} bytes`, { limitBytes: limits.fieldBytes }, close);
    case errors.maxFieldsExceeded:
      return new ApiError(ApiErrors.bodyTooLarge, 'Too many text fields', {}, close);
    default:
      // Formidable's messages describe the parser's state, never the body's content.
      return new ApiError(ApiErrors.badRequest, `Malformed multipart body: ${error.message}`, {}, close);
  }
}

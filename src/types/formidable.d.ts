/** The part of formidable 3's API gitfunc uses (the package ships no types). */
declare module 'formidable' {
  import type { IncomingMessage } from 'node:http';
  import type { Writable } from 'node:stream';

  /** One part of a multipart body, as formidable hands it to `filename`. */
  export interface Part {
    name: string | null;
    originalFilename: string | null;
    mimetype: string | null;
    headers: Record<string, string>;
  }

  /** A file part being written (`fileWriteStreamHandler` is set, so a VolatileFile). */
  export interface FormidableFile {
    filepath: string;
    newFilename: string;
    originalFilename: string | null;
    mimetype: string | null;
    size: number;
  }

  export interface Options {
    uploadDir?: string;
    maxFiles?: number;
    maxFileSize?: number;
    maxTotalFileSize?: number;
    maxFields?: number;
    maxFieldsSize?: number;
    minFileSize?: number;
    allowEmptyFiles?: boolean;
    enabledPlugins?: unknown[];
    filename?: (name: string, ext: string, part: Part) => string;
    fileWriteStreamHandler?: (file: FormidableFile) => Writable;
  }

  export interface IncomingForm {
    parse(req: IncomingMessage): Promise<[Record<string, string[]>, Record<string, FormidableFile[]>]>;
    on(event: 'file', listener: (name: string, file: FormidableFile) => void): this;
  }

  /** Errors formidable raises: `code` is one of `errors`, `httpCode` the status it suggests. */
  export interface FormidableError extends Error {
    code: number;
    httpCode: number;
  }

  export const errors: {
    readonly aborted: number;
    readonly maxFieldsSizeExceeded: number;
    readonly maxFieldsExceeded: number;
    readonly maxFilesExceeded: number;
    readonly biggerThanMaxFileSize: number;
    readonly biggerThanTotalMaxFileSize: number;
  };

  /** The multipart/form-data parser plugin. */
  export const multipart: unknown;

  export default function formidable(options?: Options): IncomingForm;
}

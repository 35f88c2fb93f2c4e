// api/files/: the caller's files in the installation's S3 bucket (see api/README.md
// "Files"). routes/files.ts is the HTTP side; everything here works on a checked
// path inside the caller's own home.
export { deletePath, makeFolder, movePath } from './change.ts';
export { type Home, homeOf } from './home.ts';
export { listFolder } from './list.ts';
export { bumpMarker } from './marker.ts';
export {
  abortBody,
  completeBody,
  deleteQuery,
  downloadBody,
  folderBody,
  listQuery,
  moveBody,
  parseFilesInput,
  partsBody,
  uploadBody,
} from './requests.ts';
export {
  createFilesStore,
  type FilesStore,
  isNotFound,
  s3ErrorSummary,
  storageUnavailable,
} from './s3.ts';
export {
  abortUpload,
  completeUpload,
  MIN_PART_BYTES,
  partSizeFor,
  presignDownload,
  presignParts,
  SINGLE_PUT_MAX_BYTES,
  startUpload,
  UPLOAD_TICKETS,
} from './transfer.ts';

/** @file `tg.io`: the safetensors format on bytes (works anywhere) and on files (Node.js). */
export { type LoadedFile, load, loadFile, loadFileSync, loadSync, type SaveOptions, save, saveSync } from "./files.ts";
export {
  type DeserializeOptions,
  type Deserialized,
  deserialize,
  MAX_HEADER_BYTES,
  type SafetensorsMetadata,
  serialize,
  type TensorDict,
} from "./safetensors.ts";

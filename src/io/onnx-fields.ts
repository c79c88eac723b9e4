/**
 * @file The one place for onnx/onnx.proto's numbers, which the writer (onnx-proto.ts) and the
 * reader (onnx-import/proto.ts) both use: protobuf's wire types, each message's field numbers
 * under onnx.proto's field names, and the enums (TensorProto.DataType, AttributeProto.AttributeType).
 */

/** Protobuf wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

export const ModelProto = { ir_version: 1, producer_name: 2, producer_version: 3, doc_string: 6, graph: 7, opset_import: 8, functions: 25 } as const;
export const OperatorSetIdProto = { domain: 1, version: 2 } as const;
export const GraphProto = { node: 1, name: 2, initializer: 5, input: 11, output: 12, sparse_initializer: 15 } as const;
export const NodeProto = { input: 1, output: 2, name: 3, op_type: 4, attribute: 5, domain: 7 } as const;
export const AttributeProto = { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, strings: 9, tensors: 10, graphs: 11, type: 20 } as const;
export const TensorProto = {
  dims: 1, data_type: 2, float_data: 4, int32_data: 5, string_data: 6, int64_data: 7, name: 8, raw_data: 9,
  double_data: 10, uint64_data: 11, external_data: 13, data_location: 14,
} as const;
export const StringStringEntryProto = { key: 1, value: 2 } as const;
export const ValueInfoProto = { name: 1, type: 2 } as const;
export const TypeProto = { tensor_type: 1 } as const;
export const TypeProto_Tensor = { elem_type: 1, shape: 2 } as const;
export const TensorShapeProto = { dim: 1 } as const;
export const TensorShapeProto_Dimension = { dim_value: 1, dim_param: 2 } as const;

/** TensorProto.DataType. */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

/** TensorProto.DataLocation: EXTERNAL keeps the data in another file. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** AttributeProto.AttributeType. */
export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
  SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

/** The AttributeProto field holding each AttributeType's value: FLOAT (1) is in `f`, …, GRAPHS (10) in `graphs`. */
export const ATTRIBUTE_VALUE_FIELD = ["f", "i", "s", "t", "g", "floats", "ints", "strings", "tensors", "graphs"] as const;

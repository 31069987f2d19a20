package io.evalfleet.common.model;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How many token ids a model accepts, as its ONNX graph fixes it: the rows of the embedding table
 * that {@code input_ids} index (a {@code Gather} on an initializer, or the word embedding of an
 * {@code EmbedLayerNormalization}) and the last dimension of a {@code logits} output; the smaller
 * of the two when both are fixed.
 *
 * <p>The graph is read from the ONNX file's wire format with protobuf's {@link CodedInputStream},
 * without loading the model: weights are skipped, not held, so a large model costs one sequential
 * read and no memory (pre-flight reads the file once anyway to verify its digest). Stateless.
 *
 * @param size the number of token ids the model accepts (ids 0 .. size - 1)
 * @param source where the size was read, for messages (e.g. {@code its logits output})
 */
public record ModelVocabulary(long size, String source) {

  public ModelVocabulary {
    if (size < 1) {
      throw new IllegalArgumentException("a model vocabulary has at least one token, got " + size);
    }
  }

  private static final String INPUT_IDS = "input_ids";
  private static final String LOGITS = "logits";

  /**
   * Ops that pass token ids (or an embedding table) through unchanged, for following them in the
   * graph.
   */
  private static final Set<String> PASS_THROUGH =
      Set.of("Cast", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Identity", "DequantizeLinear");

  // ONNX's onnx.proto field numbers.
  private static final int MODEL_GRAPH = 7;
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int GRAPH_OUTPUT = 12;
  private static final int NODE_INPUT = 1;
  private static final int NODE_OUTPUT = 2;
  private static final int NODE_OP_TYPE = 4;
  private static final int TENSOR_DIMS = 1;
  private static final int TENSOR_NAME = 8;
  private static final int VALUE_NAME = 1;
  private static final int VALUE_TYPE = 2;
  private static final int TYPE_TENSOR = 1;
  private static final int TENSOR_TYPE_SHAPE = 2;
  private static final int SHAPE_DIM = 1;
  private static final int DIM_VALUE = 1;

  /**
   * The vocabulary an ONNX model's graph fixes, or empty when it leaves it open (a symbolic logits
   * dimension and no embedding table found).
   *
   * @throws NotOnnx when the bytes are not an ONNX model's wire format
   * @throws IOException when the stream cannot be read
   */
  public static Optional<ModelVocabulary> read(InputStream onnx) throws IOException {
    Graph graph = new Graph();
    CodedInputStream in = CodedInputStream.newInstance(onnx);
    in.setSizeLimit(Integer.MAX_VALUE);
    try {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (WireFormat.getTagFieldNumber(tag) == MODEL_GRAPH && lengthDelimited(tag)) {
          int limit = in.pushLimit(in.readRawVarint32());
          graph.read(in);
          in.popLimit(limit);
        } else {
          in.skipField(tag);
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new NotOnnx(e);
    }
    return graph.vocabulary();
  }

  /** The bytes read are not a protobuf message, so not an ONNX model. */
  public static final class NotOnnx extends IOException {
    NotOnnx(Throwable cause) {
      super("not an ONNX model: " + cause.getMessage(), cause);
    }
  }

  private static boolean lengthDelimited(int tag) {
    return WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
  }

  private record Node(String opType, List<String> inputs, List<String> outputs) {}

  private static final class Graph {
    final List<Node> nodes = new ArrayList<>();
    final Map<String, Long> tableRows = new HashMap<>();
    Long logits;

    void read(CodedInputStream in) throws IOException {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        int field = WireFormat.getTagFieldNumber(tag);
        if (!lengthDelimited(tag)
            || (field != GRAPH_NODE && field != GRAPH_INITIALIZER && field != GRAPH_OUTPUT)) {
          in.skipField(tag);
          continue;
        }
        int limit = in.pushLimit(in.readRawVarint32());
        if (field == GRAPH_NODE) {
          nodes.add(node(in));
        } else if (field == GRAPH_INITIALIZER) {
          initializer(in);
        } else {
          output(in);
        }
        in.popLimit(limit);
      }
    }

    private static Node node(CodedInputStream in) throws IOException {
      List<String> inputs = new ArrayList<>();
      List<String> outputs = new ArrayList<>();
      String opType = "";
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        switch (WireFormat.getTagFieldNumber(tag)) {
          case NODE_INPUT -> inputs.add(in.readString());
          case NODE_OUTPUT -> outputs.add(in.readString());
          case NODE_OP_TYPE -> opType = in.readString();
          default -> in.skipField(tag);
        }
      }
      return new Node(opType, inputs, outputs);
    }

    /** The first dimension of a weight, by name; its values are skipped. */
    private void initializer(CodedInputStream in) throws IOException {
      List<Long> dims = new ArrayList<>();
      String name = null;
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        int field = WireFormat.getTagFieldNumber(tag);
        if (field == TENSOR_DIMS && lengthDelimited(tag)) {
          int limit = in.pushLimit(in.readRawVarint32());
          while (in.getBytesUntilLimit() > 0) {
            dims.add(in.readInt64());
          }
          in.popLimit(limit);
        } else if (field == TENSOR_DIMS) {
          dims.add(in.readInt64());
        } else if (field == TENSOR_NAME) {
          name = in.readString();
        } else {
          in.skipField(tag);
        }
      }
      if (name != null && dims.size() == 2) {
        tableRows.put(name, dims.get(0));
      }
    }

    private void output(CodedInputStream in) throws IOException {
      String name = null;
      List<Long> shape = null;
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        int field = WireFormat.getTagFieldNumber(tag);
        if (field == VALUE_NAME) {
          name = in.readString();
        } else if (field == VALUE_TYPE && lengthDelimited(tag)) {
          int limit = in.pushLimit(in.readRawVarint32());
          shape = nested(in, TYPE_TENSOR, in2 -> nested(in2, TENSOR_TYPE_SHAPE, Graph::shape));
          in.popLimit(limit);
        } else {
          in.skipField(tag);
        }
      }
      if (LOGITS.equals(name) && shape != null && shape.size() == 3 && shape.get(2) > 0) {
        logits = shape.get(2);
      }
    }

    /** Dimensions of a shape, -1 for a symbolic one. */
    private static List<Long> shape(CodedInputStream in) throws IOException {
      List<Long> dims = new ArrayList<>();
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (WireFormat.getTagFieldNumber(tag) == SHAPE_DIM && lengthDelimited(tag)) {
          int limit = in.pushLimit(in.readRawVarint32());
          long value = -1;
          for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (WireFormat.getTagFieldNumber(t) == DIM_VALUE
                && WireFormat.getTagWireType(t) == WireFormat.WIRETYPE_VARINT) {
              value = in.readInt64();
            } else {
              in.skipField(t);
            }
          }
          in.popLimit(limit);
          dims.add(value);
        } else {
          in.skipField(tag);
        }
      }
      return dims;
    }

    private interface Reader<T> {
      T read(CodedInputStream in) throws IOException;
    }

    /**
     * The value of one length-delimited field of the message being read, read by {@code reader};
     * null if absent.
     */
    private static <T> T nested(CodedInputStream in, int field, Reader<T> reader)
        throws IOException {
      T found = null;
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (WireFormat.getTagFieldNumber(tag) == field && lengthDelimited(tag)) {
          int limit = in.pushLimit(in.readRawVarint32());
          found = reader.read(in);
          in.popLimit(limit);
        } else {
          in.skipField(tag);
        }
      }
      return found;
    }

    Optional<ModelVocabulary> vocabulary() {
      Optional<ModelVocabulary> table = embeddingTable();
      Optional<ModelVocabulary> predicted =
          logits == null
              ? Optional.empty()
              : Optional.of(new ModelVocabulary(logits, "its logits output"));
      if (table.isPresent() && predicted.isPresent()) {
        return table.get().size() <= predicted.get().size() ? table : predicted;
      }
      return table.isPresent() ? table : predicted;
    }

    /** The rows of the weight that {@code input_ids} (or a cast or reshape of it) index. */
    private Optional<ModelVocabulary> embeddingTable() {
      Set<String> ids = new HashSet<>(Set.of(INPUT_IDS));
      Map<String, String> producedFrom = new HashMap<>();
      for (Node node : nodes) {
        if (PASS_THROUGH.contains(node.opType())
            && !node.inputs().isEmpty()
            && node.outputs().size() == 1) {
          producedFrom.put(node.outputs().get(0), node.inputs().get(0));
          if (ids.contains(node.inputs().get(0))) {
            ids.add(node.outputs().get(0));
          }
        }
      }
      for (Node node : nodes) {
        String table = null;
        if (node.opType().equals("Gather")
            && node.inputs().size() >= 2
            && ids.contains(node.inputs().get(1))) {
          table = node.inputs().get(0);
        } else if (node.opType().equals("EmbedLayerNormalization")
            && node.inputs().size() >= 3
            && ids.contains(node.inputs().get(0))) {
          table = node.inputs().get(2);
        }
        for (int hops = 0; table != null && !tableRows.containsKey(table) && hops < 8; hops++) {
          table = producedFrom.get(table);
        }
        if (table != null && tableRows.containsKey(table) && tableRows.get(table) > 0) {
          return Optional.of(
              new ModelVocabulary(tableRows.get(table), "its embedding table '" + table + "'"));
        }
      }
      return Optional.empty();
    }
  }
}

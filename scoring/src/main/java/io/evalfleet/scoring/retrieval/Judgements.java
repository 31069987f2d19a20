package io.evalfleet.scoring.retrieval;

import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.scoring.subset.Cells;
import io.evalfleet.scoring.subset.SubsetReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a retrieval subset says beyond its texts: its docs in row order (the corpus index of a doc
 * is its position among them), each doc id's index, and the graded judgements of each query as doc
 * index → grade. Read once per subset file; immutable.
 *
 * @param docRows the subset row of each doc, in order
 * @param grades by query id: doc index → grade (unjudged docs are not relevant)
 */
record Judgements(long[] docRows, Map<String, Map<Integer, Integer>> grades) {

  /** The judgements of a query; empty when it has none. */
  public Map<Integer, Integer> of(String queryId) {
    return grades.getOrDefault(queryId, Map.of());
  }

  public long bytes() {
    return docRows.length * 8L + grades.size() * 96L;
  }

  /**
   * Reads the role, ids and relevance of every row.
   *
   * @throws InputException naming the row, for a duplicate doc id, a judgement of an unknown doc, a
   *     grade that is not a whole number, or a row without its id
   */
  public static Judgements read(SubsetReader subsets, String uri, SubsetLayout layout, long rows)
      throws IOException {
    String role = layout.column(RetrievalTask.ROLE);
    String queryId = layout.column(RetrievalTask.QUERY_ID);
    String docId = layout.column(RetrievalTask.DOC_ID);
    String relevance = layout.column(RetrievalTask.RELEVANCE);
    List<Long> docRows = new ArrayList<>();
    Map<String, Integer> docIndex = new HashMap<>();
    List<Object[]> qrels = new ArrayList<>();
    List<String> problems = new ArrayList<>(1);
    long[] row = {0};
    subsets.read(
        uri,
        List.of(role, queryId, docId, relevance),
        0,
        Math.toIntExact(rows),
        record -> {
          long at = row[0]++;
          if (!problems.isEmpty()) {
            return;
          }
          String kind = record.getFieldRepetitionCount(role) == 0 ? "" : record.getString(role, 0);
          switch (kind) {
            case RetrievalTask.DOC -> {
              String id = Cells.text(record, docId);
              if (id == null) {
                problems.add("row " + at + " is a doc without a " + docId);
              } else if (docIndex.putIfAbsent(id, docRows.size()) != null) {
                problems.add("row " + at + " repeats doc id '" + id + "'");
              } else {
                docRows.add(at);
              }
            }
            case RetrievalTask.QREL -> {
              String query = Cells.text(record, queryId);
              String doc = Cells.text(record, docId);
              if (query == null || doc == null || record.getFieldRepetitionCount(relevance) == 0) {
                problems.add(
                    "row "
                        + at
                        + " is a judgement without its "
                        + queryId
                        + ", "
                        + docId
                        + " or "
                        + relevance);
              } else {
                double grade = Cells.number(record, relevance);
                if (grade != Math.rint(grade) || grade < 0) {
                  problems.add(
                      "row "
                          + at
                          + " grades doc '"
                          + doc
                          + "' "
                          + grade
                          + "; grades are whole numbers >= 0");
                } else {
                  qrels.add(new Object[] {query, doc, (int) grade, at});
                }
              }
            }
            default -> {}
          }
        });
    if (!problems.isEmpty()) {
      throw new InputException("golden subset " + uri + ": " + problems.get(0));
    }
    Map<String, Map<Integer, Integer>> grades = new HashMap<>();
    for (Object[] qrel : qrels) {
      Integer doc = docIndex.get((String) qrel[1]);
      if (doc == null) {
        throw new InputException(
            "golden subset "
                + uri
                + ": row "
                + qrel[3]
                + " judges doc '"
                + qrel[1]
                + "', which is not in the corpus");
      }
      grades.computeIfAbsent((String) qrel[0], q -> new HashMap<>()).put(doc, (Integer) qrel[2]);
    }
    grades.replaceAll((query, byDoc) -> Map.copyOf(byDoc));
    return new Judgements(
        docRows.stream().mapToLong(Long::longValue).toArray(), Map.copyOf(grades));
  }
}

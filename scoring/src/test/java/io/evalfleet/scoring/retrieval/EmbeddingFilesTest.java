package io.evalfleet.scoring.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingFilesTest {
  @TempDir Path dir;

  @Test
  void shardsReadBackInRowOrderAndAShardWrittenTwiceIsThereOnce() throws Exception {
    EmbeddingFiles files = new EmbeddingFiles(Storage.withDefaults());
    String folder = dir.resolve("run.embeddings").toUri().toString();
    files.write(folder, EmbeddingFiles.DOCS, 2, new float[][] {{0.6f, 0.8f}, {1f, 0f}});
    files.write(folder, EmbeddingFiles.DOCS, 0, new float[][] {{0f, 1f}, {0.8f, 0.6f}});
    files.write(
        folder,
        EmbeddingFiles.DOCS,
        2,
        new float[][] {{0.6f, 0.8f}, {1f, 0f}}); // the same job again
    EmbeddingFiles.Embeddings docs = files.read(folder, EmbeddingFiles.DOCS);
    assertThat(docs.rows()).containsExactly(0, 1, 2, 3);
    assertThat(docs.dimensions()).isEqualTo(2);
    assertThat(docs.vector(2)).containsExactly(0.6f, 0.8f);
    assertThat(files.has(folder, EmbeddingFiles.QUERIES)).isFalse();
    assertThatThrownBy(() -> files.read(folder, EmbeddingFiles.QUERIES))
        .isInstanceOf(InputException.class)
        .hasMessageContaining("no queries embeddings in " + folder);
  }
}

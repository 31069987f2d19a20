package io.evalfleet.laptop.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The endpoint the storage tests rely on: objects written through S3A read back, ranged reads are
 * counted as asked, and a stopped endpoint refuses connections, then serves the same objects again.
 */
class LocalS3Test {
  @TempDir Path dir;

  @Test
  void servesCountsStopsAndComesBackWithTheSameObjects() throws Exception {
    byte[] content = new byte[100_000];
    for (int i = 0; i < content.length; i++) {
      content[i] = (byte) (i * 31);
    }
    Path local = Files.write(dir.resolve("blob.bin"), content);
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"))) {
      String uri = s3.upload(local, "bucket", "some/blob.bin");
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(uri);

      s3.resetCounts();
      try (FileSystem fs = path.getFileSystem(s3.hadoopConf());
          FSDataInputStream in = fs.open(path)) {
        byte[] part = new byte[1000];
        in.readFully(50_000, part);
        assertThat(part[0]).isEqualTo(content[50_000]);
      }
      assertThat(s3.requestsFor("bucket", "some/blob.bin")).isNotEmpty();
      assertThat(s3.bytesSent()).isPositive();

      s3.stop();
      assertThatThrownBy(
              () -> {
                try (FileSystem fs = path.getFileSystem(s3.hadoopConf())) {
                  fs.getFileStatus(path);
                }
              })
          .isInstanceOf(IOException.class)
          .hasRootCauseInstanceOf(ConnectException.class);

      s3.start();
      try (FileSystem fs = path.getFileSystem(s3.hadoopConf())) {
        assertThat(fs.getFileStatus(path).getLen()).isEqualTo(content.length);
      }
    }
  }
}

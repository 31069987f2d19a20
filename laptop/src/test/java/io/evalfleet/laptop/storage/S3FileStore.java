package io.evalfleet.laptop.storage;

import io.evalfleet.laptop.embedded.LocalS3;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A bucket on a real S3 endpoint ({@link LocalS3}) as a store: files are uploaded through S3A, as a
 * user's pipeline would, and the fleet reaches them with the endpoint's {@code hadoop.fs.s3a.*}
 * settings.
 */
public final class S3FileStore implements FileStore {
  private final LocalS3 s3;
  private final String bucket;

  public S3FileStore(Path folder, String bucket) throws IOException, InterruptedException {
    this.s3 = LocalS3.start(folder);
    this.bucket = bucket;
    s3.createBucket(bucket);
  }

  public LocalS3 endpoint() {
    return s3;
  }

  @Override
  public String scheme() {
    return "s3a";
  }

  @Override
  public String put(Path local, String name) throws IOException {
    try (Stream<Path> files = Files.walk(local)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String relative = local.relativize(file).toString();
        s3.upload(file, bucket, relative.isEmpty() ? name : name + "/" + relative);
      }
    }
    return uri(name);
  }

  @Override
  public String uri(String name) {
    return "s3a://" + bucket + "/" + name;
  }

  @Override
  public Map<String, String> settings() {
    return s3.fleetSettings();
  }

  @Override
  public void close() throws Exception {
    s3.close();
  }
}

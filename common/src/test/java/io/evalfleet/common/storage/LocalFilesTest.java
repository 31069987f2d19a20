package io.evalfleet.common.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFilesTest {
  @TempDir Path dir;

  @Test
  void hadoopPermissionsMapToTheSamePosixBits() {
    for (String mode : new String[] {"rw-r-----", "rwxr-xr-x", "rw-------", "---rwx-w-"}) {
      assertThat(LocalFiles.Raw.posix(FsPermission.valueOf("-" + mode)))
          .as(mode)
          .isEqualTo(PosixFilePermissions.fromString(mode));
    }
  }

  @Test
  void setPermissionSetsTheFilesModeInProcess() throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "x");
    try (LocalFiles.Raw fs = new LocalFiles.Raw()) {
      fs.initialize(dir.toUri(), new Configuration());
      fs.setPermission(new org.apache.hadoop.fs.Path(file.toUri()), new FsPermission((short) 0640));
    }
    assertThat(Files.getPosixFilePermissions(file))
        .containsExactlyInAnyOrder(
            PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.GROUP_READ);
  }

  @Test
  void storageReadsAndWritesLocalPathsThroughThem() throws Exception {
    Storage storage = Storage.withDefaults();
    org.apache.hadoop.fs.Path target =
        new org.apache.hadoop.fs.Path(dir.resolve("a/b.json").toUri());
    assertThat(FileSystem.newInstance(target.toUri(), storage.conf()))
        .isInstanceOf(LocalFiles.Checksummed.class);
    assertThat(target.getFileSystem(storage.writeConf(target))).isInstanceOf(LocalFiles.Raw.class);
    try (OutputStream out = storage.create(target)) {
      out.write('x');
    }
    assertThat(Files.readString(dir.resolve("a/b.json"))).isEqualTo("x");
    assertThat(dir.resolve("a/.b.json.crc")).doesNotExist();
  }

  @Test
  void aConfigurationNamingItsOwnLocalFileSystemKeepsIt() {
    Configuration own = new Configuration();
    own.set("fs.file.impl", "org.apache.hadoop.fs.LocalFileSystem");
    assertThat(LocalFiles.use(own).get("fs.file.impl"))
        .isEqualTo("org.apache.hadoop.fs.LocalFileSystem");
    assertThat(LocalFiles.use(new Configuration()).getClass("fs.file.impl", null))
        .isEqualTo(LocalFiles.Checksummed.class);
  }
}

package io.evalfleet.common.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system with permissions set through {@code java.nio} instead of a {@code
 * chmod} process. Without Hadoop's native library (which evalfleet does not ship), {@link
 * RawLocalFileSystem} forks {@code chmod} for every file it creates with a permission: tens of
 * milliseconds each, several per decision archived (scores, lockfile, their folders), which was
 * most of the time from a run's last result to its flag.
 */
public final class LocalFiles {
  private LocalFiles() {}

  /**
   * A copy of {@code conf} that reads and writes {@code file:} paths through these file systems,
   * unless it names its own.
   */
  static Configuration use(Configuration conf) {
    Configuration copy = new Configuration(conf);
    if (copy.get("fs.file.impl") == null) {
      copy.setClass("fs.file.impl", Checksummed.class, FileSystem.class);
    }
    return copy;
  }

  /** A copy of {@code conf} that writes {@code file:} paths without {@code .crc} side files. */
  static Configuration raw(Configuration conf) {
    Configuration raw = new Configuration(conf);
    raw.setClass("fs.file.impl", Raw.class, FileSystem.class);
    raw.setBoolean("fs.file.impl.disable.cache", true);
    return raw;
  }

  /** The raw local file system, permissions set in-process. */
  public static class Raw extends RawLocalFileSystem {
    @Override
    public void setPermission(Path p, FsPermission permission) throws IOException {
      if (permission.getStickyBit()) {
        super.setPermission(p, permission);
        return;
      }
      java.nio.file.Path file = pathToFile(p).toPath();
      try {
        Files.setPosixFilePermissions(file, posix(permission));
      } catch (UnsupportedOperationException notPosix) {
        super.setPermission(p, permission);
      }
    }

    static Set<PosixFilePermission> posix(FsPermission permission) {
      Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
      add(
          set,
          permission.getUserAction(),
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);
      add(
          set,
          permission.getGroupAction(),
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE);
      add(
          set,
          permission.getOtherAction(),
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);
      return set;
    }

    private static void add(
        Set<PosixFilePermission> set,
        FsAction action,
        PosixFilePermission read,
        PosixFilePermission write,
        PosixFilePermission execute) {
      if (action.implies(FsAction.READ)) {
        set.add(read);
      }
      if (action.implies(FsAction.WRITE)) {
        set.add(write);
      }
      if (action.implies(FsAction.EXECUTE)) {
        set.add(execute);
      }
    }
  }

  /** The checksummed local file system (Hadoop's default for {@code file:}) over {@link Raw}. */
  public static class Checksummed extends LocalFileSystem {
    public Checksummed() {
      super(new Raw());
    }
  }
}

package io.evalfleet.laptop.storage;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.server.namenode.AuditLogger;

/**
 * A real HDFS in the test JVM: Hadoop's MiniDFSCluster, one name node and one data node, storing
 * its blocks in a folder of the test's. Files are put on it by the client a user would use ({@link
 * DistributedFileSystem}). The fleet reaches it as clients reach a production (high-availability)
 * cluster: by its logical name, {@code hdfs://evalfleet/...}, which only the {@code hadoop.dfs.*}
 * settings ({@link #settings()}) resolve to the name node, so a process that does not hand its
 * settings to Hadoop cannot read a file. (Within one JVM, Hadoop's FileSystem cache hands the first
 * client made for the nameservice to every later caller, whatever configuration it passes.) The
 * name node's audit log is kept ({@link #opened()}), so a test can tell which files were read from
 * it.
 */
public final class LocalHdfs implements FileStore {
  /** The cluster's logical name, as HA clusters are addressed. */
  public static final String NAMESERVICE = "evalfleet";

  /** Every file opened for reading on any running cluster, as its path on the cluster. */
  private static final List<String> OPENED = new CopyOnWriteArrayList<>();

  private final MiniDFSCluster cluster;
  private final DistributedFileSystem fs;

  /** The name node's address, {@code hdfs://localhost:port}. */
  private final URI nameNode;

  private LocalHdfs(MiniDFSCluster cluster) throws IOException {
    this.cluster = cluster;
    this.fs = cluster.getFileSystem();
    this.nameNode = cluster.getURI();
  }

  /** Starts a cluster keeping its name node's and data node's files under {@code dir}. */
  public static LocalHdfs start(Path dir) throws IOException {
    Configuration conf = new Configuration();
    conf.set("dfs.namenode.audit.loggers", OpenedFiles.class.getName());
    MiniDFSCluster cluster =
        new MiniDFSCluster.Builder(conf, dir.toAbsolutePath().toFile()).numDataNodes(1).build();
    try {
      cluster.waitActive();
      return new LocalHdfs(cluster);
    } catch (IOException | RuntimeException e) {
      cluster.shutdown(true);
      throw e;
    }
  }

  @Override
  public String scheme() {
    return "hdfs";
  }

  @Override
  public String uri(String name) {
    return "hdfs://" + NAMESERVICE + "/" + name;
  }

  /**
   * The client settings of an HA nameservice whose one member is this cluster's name node; and one
   * replica per block, since one data node holds one: a file written with Hadoop's default of three
   * would stay under-replicated, and the name node would keep trying to copy it.
   */
  @Override
  public Map<String, String> settings() {
    return Map.of(
        "hadoop.dfs.nameservices",
        NAMESERVICE,
        "hadoop.dfs.ha.namenodes." + NAMESERVICE,
        "nn1",
        "hadoop.dfs.namenode.rpc-address." + NAMESERVICE + ".nn1",
        nameNode.getHost() + ":" + nameNode.getPort(),
        "hadoop.dfs.client.failover.proxy.provider." + NAMESERVICE,
        "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider",
        "hadoop.dfs.replication",
        "1");
  }

  @Override
  public String put(Path local, String name) throws IOException {
    org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(nameNode.resolve("/" + name));
    fs.mkdirs(target.getParent());
    fs.copyFromLocalFile(
        false, true, new org.apache.hadoop.fs.Path(local.toAbsolutePath().toUri()), target);
    return uri(name);
  }

  /** The test's own client of the cluster, addressing its name node directly. */
  public DistributedFileSystem fileSystem() {
    return fs;
  }

  /** The paths on the cluster opened for reading since it started, in order, repeats kept. */
  public List<String> opened() {
    return List.copyOf(OPENED);
  }

  @Override
  public void close() {
    cluster.shutdown(true);
    OPENED.clear();
  }

  /** The name node's audit logger that keeps the paths of successful {@code open} calls. */
  public static final class OpenedFiles implements AuditLogger {
    @Override
    public void initialize(Configuration conf) {}

    @Override
    public void logAuditEvent(
        boolean succeeded,
        String userName,
        InetAddress addr,
        String cmd,
        String src,
        String dst,
        FileStatus stat) {
      if (succeeded && "open".equals(cmd)) {
        OPENED.add(src);
      }
    }
  }
}

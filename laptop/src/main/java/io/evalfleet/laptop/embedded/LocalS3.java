package io.evalfleet.laptop.embedded;

import io.evalfleet.common.storage.HadoopSettings;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * A real S3 endpoint on this machine: S3Proxy (its runnable jar, copied into {@code
 * laptop/target/s3proxy/} by the build) in its own process, serving signed, path-style S3 from a
 * local folder, behind a small TCP relay that counts what clients ask for and what the endpoint
 * sends back. {@link #stop()} takes the endpoint down (clients get "connection refused"), {@link
 * #start()} brings it back on the same port with the same objects. For tests and benchmarks.
 */
public final class LocalS3 implements AutoCloseable {
  /** The access key id the endpoint accepts. */
  public static final String ACCESS_KEY = "evalfleet-local";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path folder;
  private final String secret;
  private final int relayPort;
  private final int endpointPort;
  private final AtomicLong bytesSent = new AtomicLong();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private Process endpoint;
  private ServerSocket relay;

  /**
   * One HTTP request a client made.
   *
   * @param method GET, HEAD, PUT, ...
   * @param path the request path, {@code /bucket/key}, without the query
   * @param range the {@code Range} header, or null
   */
  public record Request(String method, String path, String range) {
    /** The bytes a ranged GET asks for, or -1 for a GET of the whole object. */
    public long rangeLength() {
      if (range == null || !range.startsWith("bytes=") || range.contains(",")) {
        return -1;
      }
      String[] bounds = range.substring("bytes=".length()).split("-", -1);
      if (bounds[0].isEmpty() || bounds[1].isEmpty()) {
        return -1;
      }
      return Long.parseLong(bounds[1].trim()) - Long.parseLong(bounds[0].trim()) + 1;
    }
  }

  private LocalS3(Path folder, String secret, int relayPort, int endpointPort) {
    this.folder = folder;
    this.secret = secret;
    this.relayPort = relayPort;
    this.endpointPort = endpointPort;
  }

  /**
   * Starts an endpoint serving {@code folder} (each sub-folder is a bucket), with a new secret. The
   * file systems this JVM cached for earlier endpoints are closed.
   */
  public static LocalS3 start(Path folder) throws IOException, InterruptedException {
    // Hadoop caches a file system per scheme and bucket, not per endpoint: a client this JVM kept
    // for an earlier endpoint's bucket of the same name would be handed out for this one
    FileSystem.closeAll();
    Files.createDirectories(folder);
    LocalS3 s3 = new LocalS3(folder, "secret-" + UUID.randomUUID(), freePort(), freePort());
    s3.start();
    return s3;
  }

  /** The runnable S3Proxy jar the build copied beside this module's classes. */
  public static Path proxyJar() {
    try {
      Path code =
          Path.of(LocalS3.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path jar = code.getParent().resolve("s3proxy").resolve("s3proxy.jar");
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException(
            "no S3Proxy jar at "
                + jar
                + ": build the laptop module first (mvn -pl laptop -am package)");
      }
      return jar;
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** (Re)starts the endpoint and the relay in front of it, on the ports it had. */
  public synchronized void start() throws IOException, InterruptedException {
    if (endpoint != null && endpoint.isAlive()) {
      return;
    }
    Path properties = folder.resolveSibling(folder.getFileName() + ".s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=http://127.0.0.1:" + endpointPort,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + secret,
            "jclouds.provider=filesystem",
            "jclouds.filesystem.basedir=" + folder.toAbsolutePath(),
            ""));
    Path log = folder.resolveSibling(folder.getFileName() + ".s3proxy.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    endpoint =
        new ProcessBuilder(
                java,
                "-Xmx256m",
                "-jar",
                proxyJar().toString(),
                "--properties",
                properties.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    awaitPort(endpointPort, log);
    relay = new ServerSocket();
    relay.setReuseAddress(true);
    relay.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), relayPort));
    ServerSocket listening = relay;
    Thread acceptor = new Thread(() -> accept(listening), "local-s3-relay");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * Takes the endpoint down: the S3Proxy process is killed and the port refuses connections, as a
   * store that went away does. Objects stay in the folder for {@link #start()}.
   */
  public synchronized void stop() throws IOException, InterruptedException {
    if (relay != null) {
      relay.close();
      relay = null;
    }
    for (Socket socket : open) {
      socket.close();
    }
    open.clear();
    if (endpoint != null) {
      endpoint.destroyForcibly();
      endpoint.waitFor(30, TimeUnit.SECONDS);
      endpoint = null;
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    stop();
  }

  /** {@code http://127.0.0.1:<port>}: where clients reach the endpoint (through the relay). */
  public String endpointUrl() {
    return "http://127.0.0.1:" + relayPort;
  }

  /** The secret access key the endpoint accepts (new at every {@link #start(Path)}). */
  public String secretKey() {
    return secret;
  }

  /** Creates a bucket (an empty folder under the endpoint's folder). */
  public String createBucket(String name) throws IOException {
    Files.createDirectories(folder.resolve(name));
    return "s3a://" + name + "/";
  }

  /**
   * The fleet settings that reach this endpoint through S3A: its URL, path-style requests, plain
   * HTTP and the key pair (as {@code hadoop.*} keys for {@code FleetConfig}).
   */
  public Map<String, String> fleetSettings() {
    Map<String, String> settings = new LinkedHashMap<>();
    hadoopSettings().forEach((k, v) -> settings.put("hadoop." + k, v));
    return settings;
  }

  /** The same settings as Hadoop configuration keys. */
  public Map<String, String> hadoopSettings() {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("fs.s3a.endpoint", endpointUrl());
    settings.put("fs.s3a.endpoint.region", "us-east-1");
    settings.put("fs.s3a.path.style.access", "true");
    settings.put("fs.s3a.connection.ssl.enabled", "false");
    settings.put("fs.s3a.access.key", ACCESS_KEY);
    settings.put("fs.s3a.secret.key", secret);
    return settings;
  }

  /**
   * A Hadoop configuration that reaches this endpoint, for writing test data through S3A: the
   * fleet's own ({@link HadoopSettings}), so that a stopped endpoint fails in seconds, not after
   * S3A's two minutes of retries.
   */
  public Configuration hadoopConf() {
    Configuration conf = HadoopSettings.of(hadoopSettings());
    // a fresh client each time: settings of an earlier endpoint are not reused from the cache
    conf.setBoolean("fs.s3a.impl.disable.cache", true);
    return conf;
  }

  /** Uploads a local file through S3A, as a user's pipeline would; returns its s3a:// URI. */
  public String upload(Path local, String bucket, String key) throws IOException {
    createBucket(bucket);
    org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path("s3a://" + bucket + "/" + key);
    try (FileSystem fs = target.getFileSystem(hadoopConf());
        OutputStream out = fs.create(target, true)) {
      Files.copy(local, out);
    }
    return target.toString();
  }

  /** Bytes the endpoint has sent to clients (headers and bodies) since the last reset. */
  public long bytesSent() {
    return bytesSent.get();
  }

  /** The requests clients made since the last reset, in order. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** Forgets the bytes and requests counted so far. */
  public void resetCounts() {
    bytesSent.set(0);
    requests.clear();
  }

  private void accept(ServerSocket listening) {
    while (!listening.isClosed()) {
      try {
        Socket client = listening.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), endpointPort);
        open.add(client);
        open.add(server);
        pump(client, server, true);
        pump(server, client, false);
      } catch (IOException e) {
        // closed by stop(), or the endpoint died: the client sees its connection fail
      }
    }
  }

  /** Copies one direction of a connection; the client's side is parsed into requests. */
  private void pump(Socket from, Socket to, boolean fromClient) {
    Thread thread =
        new Thread(
            () -> {
              try (InputStream in = new BufferedInputStream(from.getInputStream());
                  OutputStream out = to.getOutputStream()) {
                if (fromClient) {
                  relayRequests(in, out);
                } else {
                  byte[] buffer = new byte[64 * 1024];
                  for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    bytesSent.addAndGet(n);
                  }
                }
              } catch (IOException e) {
                // the other side closed
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "local-s3-pump");
    thread.setDaemon(true);
    thread.start();
  }

  /** Forwards HTTP/1.1 requests one by one, noting each request line and its Range header. */
  private void relayRequests(InputStream in, OutputStream out) throws IOException {
    while (true) {
      byte[] head = readHead(in);
      if (head == null) {
        return;
      }
      out.write(head);
      String[] lines = new String(head, StandardCharsets.ISO_8859_1).split("\r\n");
      String[] requestLine = lines[0].split(" ");
      long length = 0;
      String range = null;
      boolean chunked = false;
      for (String line : lines) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).trim();
        if (name.equals("content-length")) {
          length = Long.parseLong(value);
        } else if (name.equals("range")) {
          range = value;
        } else if (name.equals("transfer-encoding") && value.contains("chunked")) {
          chunked = true;
        }
      }
      if (requestLine.length >= 2) {
        String path = requestLine[1];
        int query = path.indexOf('?');
        requests.add(
            new Request(requestLine[0], query < 0 ? path : path.substring(0, query), range));
      }
      if (chunked) {
        // no length to parse by: relay the rest of the connection as it comes
        in.transferTo(out);
        return;
      }
      copy(in, out, length);
      out.flush();
    }
  }

  private static void copy(InputStream in, OutputStream out, long length) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    long left = length;
    while (left > 0) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        throw new IOException("request body ended early");
      }
      out.write(buffer, 0, n);
      left -= n;
    }
  }

  /** The bytes up to and including the blank line that ends a request's headers; null at EOF. */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int b; (b = in.read()) >= 0; ) {
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
      if (matched == end.length) {
        return head.toByteArray();
      }
    }
    return null;
  }

  private static void awaitPort(int port, Path log) throws IOException, InterruptedException {
    Instant until = Instant.now().plus(START_TIMEOUT);
    while (Instant.now().isBefore(until)) {
      try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    throw new IOException(
        "S3Proxy did not listen on port " + port + " within " + START_TIMEOUT + "; see " + log);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  /** The requests so far whose path is {@code /bucket/key}. */
  public List<Request> requestsFor(String bucket, String key) {
    List<Request> found = new ArrayList<>();
    for (Request request : requests) {
      if (request.path().equals("/" + bucket + "/" + key)) {
        found.add(request);
      }
    }
    return found;
  }
}

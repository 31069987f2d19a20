package io.evalfleet.laptop.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

/**
 * A real single-node Kafka broker in KRaft mode (combined broker and controller) with its security
 * switched on, run the way users run one: {@code kafka.Kafka server.properties} in a child JVM, its
 * storage formatted by the storage tool. Nothing is allowed that no ACL allows.
 *
 * <ul>
 *   <li>{@code SASL_SSL} listener: SCRAM-SHA-512 only, for principals with a password ({@link
 *       #addScramUser}).
 *   <li>{@code SSL} listener: mutual TLS ({@code ssl.client.auth=required}); a client certificate
 *       {@code CN=evalfleet-worker-tls,O=evalfleet} is the principal {@code
 *       User:evalfleet-worker-tls}: {@code ssl.principal.mapping.rules} keeps the common name
 *       ({@link #PRINCIPAL_MAPPING_RULES}). The broker talks to itself on this listener too.
 *   <li>{@code CONTROLLER} listener: mutual TLS with the broker's own certificate.
 * </ul>
 *
 * <p>The super users are the admin ({@code User:evalfleet-admin}, a SCRAM principal added when the
 * storage is formatted) and the broker's own certificate ({@code User:evalfleet-broker}, which the
 * broker and controller need to talk to each other); nobody else. The certificate authority, the
 * broker's and clients' certificates (PKCS12) are made at start with the JDK's {@code keytool};
 * every password is random, made at start, and is never on a command line. The listener ports are
 * free ones chosen at start. {@link #close()} stops the broker by its process and deletes nothing
 * but what it made under its directory's {@code data} folder.
 */
public final class SecuredKafka implements AutoCloseable {
  /** The admin principal's user name: the only super user besides the broker itself. */
  public static final String ADMIN_USER = "evalfleet-admin";

  /** The common name of the broker's certificate: its principal on the SSL listeners. */
  public static final String BROKER_CN = "evalfleet-broker";

  /**
   * Keeps a certificate's common name: {@code CN=worker-1,O=evalfleet} is {@code User:worker-1}.
   */
  public static final String PRINCIPAL_MAPPING_RULES = "RULE:^CN=([^,]+)(,.*)?$/$1/,DEFAULT";

  private static final String SCRAM = "SCRAM-SHA-512";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A PKCS12 key store and its password. */
  public record KeyStore(Path path, String password) {}

  private final Path dir;
  private final Certificates certificates;
  private final String adminPassword;
  private final Map<String, KeyStore> clientCertificates = new ConcurrentHashMap<>();
  private final List<String> secrets = Collections.synchronizedList(new ArrayList<>());
  private final List<String> log = Collections.synchronizedList(new ArrayList<>());
  private final Path authorizerLog;
  private int saslSslPort;
  private int sslPort;
  private Process broker;
  private Thread logPump;
  private Thread shutdownHook;

  private SecuredKafka(Path dir) throws IOException {
    this.dir = dir;
    this.certificates = new Certificates(dir.resolve("tls"), this::secret, log::add);
    this.adminPassword = secret(randomPassword());
    this.authorizerLog = dir.resolve("authorizer.log");
  }

  /**
   * Makes the certificates, formats the storage with the admin's SCRAM credential, starts the
   * broker under {@code dir} and waits until the admin can reach it.
   */
  public static SecuredKafka start(Path dir) throws Exception {
    Files.createDirectories(dir);
    SecuredKafka kafka = new SecuredKafka(dir.toAbsolutePath());
    try {
      kafka.startBroker();
      return kafka;
    } catch (Exception | Error e) {
      kafka.close();
      throw e;
    }
  }

  private void startBroker() throws Exception {
    certificates.createAuthority();
    KeyStore brokerStore = certificates.issue(BROKER_CN);
    saslSslPort = freePort();
    sslPort = freePort();
    int controllerPort = freePort();
    Path data = dir.resolve("data");
    Files.createDirectories(data);

    Properties server = new Properties();
    server.setProperty("process.roles", "broker,controller");
    server.setProperty("node.id", "1");
    server.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    server.setProperty("controller.listener.names", "CONTROLLER");
    server.setProperty(
        "listeners",
        "SASL_SSL://127.0.0.1:"
            + saslSslPort
            + ",SSL://127.0.0.1:"
            + sslPort
            + ",CONTROLLER://127.0.0.1:"
            + controllerPort);
    server.setProperty(
        "advertised.listeners",
        "SASL_SSL://127.0.0.1:" + saslSslPort + ",SSL://127.0.0.1:" + sslPort);
    server.setProperty(
        "listener.security.protocol.map", "SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:SSL");
    server.setProperty("inter.broker.listener.name", "SSL");
    server.setProperty("log.dirs", data.toString());
    server.setProperty(
        "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    server.setProperty("allow.everyone.if.no.acl.found", "false");
    server.setProperty("super.users", "User:" + ADMIN_USER + ";User:" + BROKER_CN);
    // TLS everywhere, from the same key store: the broker's certificate serves its listeners and
    // is its client certificate towards the controller.
    server.setProperty(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
    server.setProperty(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, brokerStore.path().toString());
    server.setProperty(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, brokerStore.password());
    server.setProperty(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
    server.setProperty(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, truststore().toString());
    server.setProperty(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, truststorePassword());
    server.setProperty("ssl.principal.mapping.rules", PRINCIPAL_MAPPING_RULES);
    // Per listener: a SASL_SSL listener ignores the broker-wide ssl.client.auth (KIP-684).
    server.setProperty("listener.name.ssl.ssl.client.auth", "required");
    server.setProperty("listener.name.controller.ssl.client.auth", "required");
    server.setProperty("sasl.enabled.mechanisms", SCRAM);
    server.setProperty("listener.name.sasl_ssl.sasl.enabled.mechanisms", SCRAM);
    server.setProperty(
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    // As EmbeddedKafka: one node, topics only from TopicSetup, groups that form at once.
    server.setProperty("auto.create.topics.enable", "false");
    server.setProperty("offsets.topic.replication.factor", "1");
    server.setProperty("transaction.state.log.replication.factor", "1");
    server.setProperty("transaction.state.log.min.isr", "1");
    server.setProperty("share.coordinator.state.topic.replication.factor", "1");
    server.setProperty("share.coordinator.state.topic.min.isr", "1");
    server.setProperty("group.initial.rebalance.delay.ms", "0");
    server.setProperty("log.cleaner.backoff.ms", "1000");
    Path serverProperties = dir.resolve("server.properties");
    writePrivate(serverProperties, server);

    format(serverProperties);

    // Every decision of the authorizer, allowed ones included, in a file of its own.
    Path logback = dir.resolve("broker-logback.xml");
    Files.writeString(
        logback,
        """
        <configuration>
          <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%%d{HH:mm:ss.SSS} %%-5level %%logger{36} - %%msg%%n</pattern></encoder>
          </appender>
          <appender name="authorizer" class="ch.qos.logback.core.FileAppender">
            <file>%s</file>
            <encoder><pattern>%%msg%%n</pattern></encoder>
          </appender>
          <logger name="org.apache.kafka.controller" level="WARN"/>
          <logger name="kafka.authorizer.logger" level="DEBUG" additivity="false">
            <appender-ref ref="authorizer"/>
          </logger>
          <root level="INFO"><appender-ref ref="out"/></root>
        </configuration>
        """
            .formatted(authorizerLog));
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-Dlogback.configurationFile=" + logback,
            "-cp",
            System.getProperty("java.class.path"),
            "kafka.Kafka",
            serverProperties.toString());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("CLASSPATH");
    broker = builder.start();
    shutdownHook = new Thread(broker::destroyForcibly, "secured-kafka-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    logPump = pump(broker.getInputStream(), dir.resolve("broker.log"));
    awaitReady();
  }

  /**
   * {@code kafka-storage format}, in this JVM so that the admin's password is on no command line.
   */
  private void format(Path serverProperties) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status;
    try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      status =
          kafka.tools.StorageTool.execute(
              new String[] {
                "format",
                "--config",
                serverProperties.toString(),
                "--cluster-id",
                Uuid.randomUuid().toString(),
                "--add-scram",
                SCRAM + "=[name=" + ADMIN_USER + ",password=" + adminPassword + "]"
              },
              print);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    printed.lines().forEach(line -> log.add("[storage format] " + line));
    if (status != 0) {
      throw new IllegalStateException("kafka-storage format failed (" + status + "): " + printed);
    }
  }

  private void awaitReady() throws Exception {
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    Map<String, Object> props = adminProperties();
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
    Exception last = null;
    while (Instant.now().isBefore(deadline)) {
      if (!broker.isAlive()) {
        throw new IllegalStateException(
            "the broker exited with " + broker.exitValue() + ":\n" + tail());
      }
      try (Admin admin = Admin.create(props)) {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(500);
      }
    }
    throw new IllegalStateException(
        "the broker was not ready in " + START_TIMEOUT + ":\n" + tail(), last);
  }

  private String tail() {
    synchronized (log) {
      return String.join("\n", log.subList(Math.max(0, log.size() - 40), log.size()));
    }
  }

  private Thread pump(InputStream in, Path file) {
    Thread thread =
        new Thread(
            () -> {
              try (var reader =
                      new java.io.BufferedReader(
                          new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
                  var writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                String line;
                while ((line = reader.readLine()) != null) {
                  log.add(line);
                  writer.write(line);
                  writer.newLine();
                  writer.flush();
                }
              } catch (IOException e) {
                log.add("[log pump] " + e);
              }
            },
            "secured-kafka-log");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** The SASL_SSL listener ({@code 127.0.0.1:port}): SCRAM-SHA-512 principals. */
  public String saslSslBootstrap() {
    return "127.0.0.1:" + saslSslPort;
  }

  /** The SSL listener ({@code 127.0.0.1:port}): principals of client certificates. */
  public String sslBootstrap() {
    return "127.0.0.1:" + sslPort;
  }

  /** The PKCS12 trust store holding the certificate authority that signed every certificate. */
  public Path truststore() {
    return certificates.truststore().path();
  }

  public String truststorePassword() {
    return certificates.truststore().password();
  }

  /** Admin client properties (no {@code kafka.} prefix) of the super user, over SASL_SSL. */
  public Map<String, Object> adminProperties() {
    Map<String, Object> props = new LinkedHashMap<>();
    props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, saslSslBootstrap());
    clientSecurity(ADMIN_USER, adminPassword).forEach(props::put);
    return props;
  }

  /**
   * Creates (or changes the password of) the SCRAM-SHA-512 principal {@code User:<name>} as the
   * admin and waits until the broker knows it.
   *
   * @return its password, random
   */
  public String addScramUser(String name) throws Exception {
    String password = secret(randomPassword());
    try (Admin admin = Admin.create(adminProperties())) {
      admin
          .alterUserScramCredentials(
              List.of(
                  new UserScramCredentialUpsertion(
                      name, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
          .all()
          .get(30, TimeUnit.SECONDS);
      // The credential travels through the metadata log; the broker answers for it once applied.
      Instant deadline = Instant.now().plusSeconds(30);
      while (true) {
        try {
          admin.describeUserScramCredentials(List.of(name)).all().get(10, TimeUnit.SECONDS);
          break;
        } catch (Exception e) {
          if (Instant.now().isAfter(deadline)) {
            throw e;
          }
          Thread.sleep(100);
        }
      }
    }
    return password;
  }

  /**
   * A client certificate {@code CN=<cn>,O=evalfleet} signed by the authority, made on first use: on
   * the SSL listener it is the principal {@code User:<cn>}.
   */
  public KeyStore clientCertificate(String cn) {
    return clientCertificates.computeIfAbsent(
        cn,
        name -> {
          try {
            return certificates.issue(name);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while making a certificate", e);
          }
        });
  }

  /**
   * The settings a fleet process needs to connect as the SCRAM principal {@code User:<user>}, as
   * {@code kafka.*} keys of a FleetConfig: bootstrap servers, SASL_SSL, SCRAM-SHA-512, its JAAS
   * line and the trust store.
   */
  public Map<String, String> clientProperties(String user, String password) {
    Map<String, String> props = new LinkedHashMap<>();
    props.put("kafka." + CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, saslSslBootstrap());
    clientSecurity(user, password).forEach((k, v) -> props.put("kafka." + k, v));
    return props;
  }

  /**
   * The settings a fleet process needs to connect with the client certificate of {@code cn} (see
   * {@link #clientCertificate}), as {@code kafka.*} keys: bootstrap servers of the SSL listener,
   * its key store and the trust store; no SASL.
   */
  public Map<String, String> mtlsClientProperties(String cn) {
    KeyStore store = clientCertificate(cn);
    Map<String, String> props = new LinkedHashMap<>();
    props.put("kafka." + CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, sslBootstrap());
    props.put("kafka." + CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
    props.put("kafka." + SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
    props.put("kafka." + SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, store.path().toString());
    props.put("kafka." + SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, store.password());
    props.put("kafka." + SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
    props.put("kafka." + SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, truststore().toString());
    props.put("kafka." + SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, truststorePassword());
    return props;
  }

  private Map<String, String> clientSecurity(String user, String password) {
    Map<String, String> props = new LinkedHashMap<>();
    props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
    props.put(SaslConfigs.SASL_MECHANISM, SCRAM);
    props.put(
        SaslConfigs.SASL_JAAS_CONFIG,
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + user
            + "\" password=\""
            + password
            + "\";");
    props.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
    props.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, truststore().toString());
    props.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, truststorePassword());
    return props;
  }

  /**
   * Every password this broker made (the admin's, the SCRAM users', the key and trust stores'):
   * what must appear in no log.
   */
  public List<String> secrets() {
    synchronized (secrets) {
      return List.copyOf(secrets);
    }
  }

  /** The broker process's output so far (and the storage tool's), one entry a line. */
  public List<String> brokerLog() {
    synchronized (log) {
      return List.copyOf(log);
    }
  }

  /**
   * The authorizer's decisions so far, one a line, as Kafka logs them: {@code Principal = User:x is
   * Allowed operation = READ ... on resource = Topic:LITERAL:t ... based on rule MatchingAcl(...)}.
   */
  public List<String> authorizerLog() throws IOException {
    return Files.exists(authorizerLog) ? Files.readAllLines(authorizerLog) : List.of();
  }

  /** The broker's process id, while it runs. */
  public long pid() {
    return broker.pid();
  }

  private String secret(String value) {
    secrets.add(value);
    return value;
  }

  @Override
  public void close() throws Exception {
    if (broker != null) {
      broker.destroy(); // SIGTERM: the broker's own controlled shutdown
      if (!broker.waitFor(30, TimeUnit.SECONDS)) {
        broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      logPump.join(5_000);
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    }
    EmbeddedKafka.deleteTree(dir.resolve("data"));
  }

  static String randomPassword() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void writePrivate(Path file, Properties props) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (var writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      props.store(writer, "evalfleet SecuredKafka");
    }
  }

  /**
   * A certificate authority and the certificates it signs, made with the JDK's {@code keytool} (EC
   * P-256 keys, PKCS12 stores). Passwords reach keytool through its environment ({@code
   * -storepass:env}), not its command line.
   */
  static final class Certificates {
    private static final String DN_SUFFIX = ",O=evalfleet";
    private final Path dir;
    private final java.util.function.UnaryOperator<String> remember;
    private final java.util.function.Consumer<String> output;
    private KeyStore authority;
    private KeyStore truststore;
    private Path authorityPem;

    /**
     * @param remember told each password made
     * @param output told each line keytool prints
     */
    Certificates(
        Path dir,
        java.util.function.UnaryOperator<String> remember,
        java.util.function.Consumer<String> output)
        throws IOException {
      this.dir = Files.createDirectories(dir);
      this.remember = remember;
      this.output = output;
    }

    KeyStore truststore() {
      return truststore;
    }

    void createAuthority() throws IOException, InterruptedException {
      authority = new KeyStore(dir.resolve("ca.p12"), remember.apply(randomPassword()));
      keytool(
          Map.of("STOREPASS", authority.password()),
          "-genkeypair",
          "-alias",
          "ca",
          "-dname",
          "CN=evalfleet-test-ca" + DN_SUFFIX,
          "-ext",
          "bc:c",
          "-ext",
          "ku:c=keyCertSign,cRLSign",
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-validity",
          "7",
          "-storetype",
          "PKCS12",
          "-keystore",
          authority.path().toString(),
          "-storepass:env",
          "STOREPASS");
      authorityPem = dir.resolve("ca.pem");
      keytool(
          Map.of("STOREPASS", authority.password()),
          "-exportcert",
          "-rfc",
          "-alias",
          "ca",
          "-keystore",
          authority.path().toString(),
          "-storepass:env",
          "STOREPASS",
          "-file",
          authorityPem.toString());
      truststore = new KeyStore(dir.resolve("truststore.p12"), remember.apply(randomPassword()));
      keytool(
          Map.of("STOREPASS", truststore.password()),
          "-importcert",
          "-noprompt",
          "-alias",
          "ca",
          "-file",
          authorityPem.toString(),
          "-storetype",
          "PKCS12",
          "-keystore",
          truststore.path().toString(),
          "-storepass:env",
          "STOREPASS");
    }

    /**
     * A key store with the key of {@code CN=<cn>,O=evalfleet} and its certificate (SAN localhost
     * and 127.0.0.1) signed by the authority, the authority's certificate after it in the chain.
     */
    KeyStore issue(String cn) throws IOException, InterruptedException {
      KeyStore store = new KeyStore(dir.resolve(cn + ".p12"), remember.apply(randomPassword()));
      Map<String, String> env =
          Map.of("STOREPASS", store.password(), "CAPASS", authority.password());
      keytool(
          env,
          "-genkeypair",
          "-alias",
          cn,
          "-dname",
          "CN=" + cn + DN_SUFFIX,
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-validity",
          "7",
          "-storetype",
          "PKCS12",
          "-keystore",
          store.path().toString(),
          "-storepass:env",
          "STOREPASS");
      Path request = dir.resolve(cn + ".csr");
      keytool(
          env,
          "-certreq",
          "-alias",
          cn,
          "-keystore",
          store.path().toString(),
          "-storepass:env",
          "STOREPASS",
          "-file",
          request.toString());
      Path signed = dir.resolve(cn + ".pem");
      keytool(
          env,
          "-gencert",
          "-rfc",
          "-alias",
          "ca",
          "-keystore",
          authority.path().toString(),
          "-storepass:env",
          "CAPASS",
          "-infile",
          request.toString(),
          "-outfile",
          signed.toString(),
          "-validity",
          "7",
          "-ext",
          "san=dns:localhost,ip:127.0.0.1",
          "-ext",
          "ku:c=digitalSignature,keyAgreement",
          "-ext",
          "eku=serverAuth,clientAuth");
      // The reply as a chain: the signed certificate, then the authority's.
      Path chain = dir.resolve(cn + "-chain.pem");
      Files.writeString(chain, Files.readString(signed) + Files.readString(authorityPem));
      keytool(
          env,
          "-importcert",
          "-noprompt",
          "-alias",
          cn,
          "-file",
          chain.toString(),
          "-keystore",
          store.path().toString(),
          "-storepass:env",
          "STOREPASS");
      Files.delete(request);
      return store;
    }

    private void keytool(Map<String, String> env, String... args)
        throws IOException, InterruptedException {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
      // A short-lived JVM: the quick compiler is enough.
      command.add("-J-XX:TieredStopAtLevel=1");
      command.add("-J-XX:+UseSerialGC");
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().putAll(env);
      Process process = builder.start();
      String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      printed.lines().forEach(line -> output.accept("[keytool " + args[0] + "] " + line));
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("keytool " + args[0] + " did not finish in 60 s");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "keytool "
                + String.join(" ", args)
                + " failed ("
                + process.exitValue()
                + "): "
                + printed);
      }
    }
  }
}

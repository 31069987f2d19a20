package io.evalfleet.laptop.faults;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A process of the packaged fleet, with its output in a log file: the real thing, killable with
 * SIGKILL. Roles run from the deployable artifact ({@code cli/target/evalfleet.jar} and its {@code
 * lib}); a Kafka broker from the laptop build's jars ({@code target/lib}).
 */
final class FleetProcess implements AutoCloseable {
  /** A JVM stopped by SIGTERM exits with 128 + 15 once its shutdown hooks have run. */
  static final int EXIT_ON_SIGTERM = 143;

  /** The laptop build: its jars hold the Kafka broker. */
  static final Path TARGET = Path.of("target").toAbsolutePath();

  /** The deployable build: what operators run. */
  static final Path DEPLOYABLE = Path.of("..", "cli", "target").toAbsolutePath().normalize();

  private final String name;
  private final List<String> command;
  private final Path log;
  private final Path workDir;
  private final java.util.Map<String, String> environment;
  private Process process;

  private FleetProcess(String name, List<String> command, Path log) {
    this(name, command, log, null, java.util.Map.of());
  }

  private FleetProcess(
      String name,
      List<String> command,
      Path log,
      Path workDir,
      java.util.Map<String, String> environment) {
    this.name = name;
    this.command = List.copyOf(command);
    this.log = log;
    this.workDir = workDir;
    this.environment = java.util.Map.copyOf(environment);
  }

  /** {@code java [jvmArgs] -cp <target>/<jar>:<target>/lib/* mainClass args}, not started yet. */
  static FleetProcess java(
      String name,
      Path logDir,
      List<String> jvmArgs,
      Path target,
      String jarName,
      String mainClass,
      List<String> args) {
    Path jar = target.resolve(jarName);
    if (!Files.exists(jar)) {
      throw new IllegalStateException(
          jar + " is missing: fault tests run after `mvn package` (mvn verify does both)");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(jar + java.io.File.pathSeparator + target.resolve("lib") + "/*");
    command.add(mainClass);
    command.addAll(args);
    return new FleetProcess(name, command, logDir.resolve(name + ".log"));
  }

  /** A program that is not Java, e.g. a Prometheus server. */
  static FleetProcess external(String name, Path logDir, List<String> command) {
    return new FleetProcess(name, command, logDir.resolve(name + ".log"));
  }

  /**
   * A command line as a user types it, run by {@code bash -c} in {@code workDir} with {@code
   * environment} added to this JVM's (bash runs a lone command in its own place, so the process is
   * the command's).
   */
  static FleetProcess shell(
      String name,
      Path logDir,
      Path workDir,
      java.util.Map<String, String> environment,
      String commandLine) {
    return new FleetProcess(
        name,
        List.of("bash", "-c", commandLine),
        logDir.resolve(name + ".log"),
        workDir,
        environment);
  }

  /** An evalfleet role: {@code evalfleet <args>}. */
  static FleetProcess evalfleet(String name, Path logDir, String heap, List<String> args) {
    return evalfleet(name, logDir, heap, List.of(), args);
  }

  /**
   * An evalfleet role with more JVM options (e.g. to exit on running out of memory, as a container
   * is killed).
   */
  static FleetProcess evalfleet(
      String name, Path logDir, String heap, List<String> jvmArgs, List<String> args) {
    List<String> jvm = new ArrayList<>(List.of("-Xmx" + heap, "-Devalfleet.log.level=debug"));
    jvm.addAll(jvmArgs);
    return java(name, logDir, jvm, DEPLOYABLE, "evalfleet.jar", "io.evalfleet.cli.Evalfleet", args);
  }

  /** A class from the laptop build's classpath, e.g. the Kafka broker. */
  static FleetProcess laptop(
      String name, Path logDir, List<String> jvmArgs, String mainClass, List<String> args) {
    return java(name, logDir, jvmArgs, TARGET, "evalfleet-laptop.jar", mainClass, args);
  }

  FleetProcess start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is already running");
    }
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (workDir != null) {
      builder.directory(workDir.toFile());
    }
    builder.environment().putAll(environment);
    process =
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    return this;
  }

  /** Waits for the process to end by itself and fails unless it exits with 0. */
  void awaitExit(Duration timeout) throws InterruptedException, IOException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(
          name + " did not finish within " + timeout + "; its log:\n" + tail());
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          name + " exited with " + process.exitValue() + "; its log:\n" + tail());
    }
  }

  /** Waits for the process to end by itself; returns its exit status. */
  int awaitExitStatus(Duration timeout) throws InterruptedException, IOException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(
          name + " did not finish within " + timeout + "; its log:\n" + tail());
    }
    return process.exitValue();
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  /**
   * The processes this one started that are still running (e.g. a worker's scoring of a job alone).
   */
  List<ProcessHandle> descendants() {
    return process == null ? List.of() : process.descendants().toList();
  }

  /** SIGKILL: no shutdown hook, no commit, no goodbye to the group. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, then waits for the process to exit; returns its exit status. */
  int stop(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      throw new IllegalStateException(name + " did not stop within " + timeout + " of SIGTERM");
    }
    return process.exitValue();
  }

  /** The process's peak resident set size from {@code /proc}, in bytes; -1 if unknown. */
  long peakRssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone, or not Linux
    }
    return -1;
  }

  String log() throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  /**
   * The log's messages, one per line: a role logs one JSON object per line, of which this is the
   * formatted message; any other line (a broker's, Prometheus's) as it is.
   */
  String messages() throws IOException {
    StringBuilder messages = new StringBuilder();
    for (String line : log().split("\n")) {
      if (line.startsWith("{")) {
        try {
          line = JSON.readTree(line).path("formattedMessage").asText(line);
        } catch (IOException e) {
          // a line cut short by a kill: kept as it is
        }
      }
      messages.append(line).append('\n');
    }
    return messages.toString();
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** Every match of {@code pattern}'s first group in the log's messages so far. */
  List<String> logMatches(Pattern pattern) throws IOException {
    List<String> found = new ArrayList<>();
    Matcher matcher = pattern.matcher(messages());
    while (matcher.find()) {
      found.add(matcher.group(1));
    }
    return found;
  }

  /** Waits until the log holds a match of {@code pattern}; returns its first group. */
  String awaitLog(Pattern pattern, Duration timeout) {
    return await(name + " logs " + pattern)
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(20))
        .failFast(name + " exited before logging " + pattern, () -> !alive())
        .until(() -> logMatches(pattern), found -> !found.isEmpty())
        .get(0);
  }

  String tail() throws IOException {
    String text = log();
    return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
  }

  String name() {
    return name;
  }

  @Override
  public void close() throws InterruptedException {
    if (alive()) {
      kill();
    }
  }
}

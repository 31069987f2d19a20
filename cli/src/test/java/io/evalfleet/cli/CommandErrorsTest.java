package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every command, given a representative mistake, answers in one line (or a few) that names the
 * command and the cause, with the exit code of its kind, and never a stack trace on the console.
 */
class CommandErrorsTest {
  @TempDir static Path dir;

  static Stream<Arguments> mistakes() throws Exception {
    Path notParquet =
        Files.writeString(dir.resolve("traffic.parquet"), "this is not a Parquet file");
    Path notJson = Files.writeString(dir.resolve("event.json"), "{\"model\": ");
    Path typoEvent =
        Files.writeString(
            dir.resolve("typo-event.json"),
            "{\"schema_version\": 1, \"event_id\": \"e\", \"model\": \"m\", \"version\": \"v\","
                + " \"task\": \"embedding\", \"change_kind\": \"Retrain \"}");
    Path badSpec = Files.writeString(dir.resolve("spec.json"), "{\"model\": \"m\"}");
    String archive = "-D archive.root=" + dir.resolve("archive").toUri();
    String noBroker =
        "-b 127.0.0.1:1 -D kafka.default.api.timeout.ms=1500 -D kafka.request.timeout.ms=1000"
            + " -D kafka.max.block.ms=1500";
    String missing = dir.resolve("missing.parquet").toString();
    return Stream.of(
        Arguments.of(
            "an unknown option, with a suggestion",
            2,
            "history --model m --htm",
            "Unknown option: '--htm'"),
        Arguments.of(
            "a missing required option",
            2,
            "report --model m",
            "Missing required option: '--version"),
        Arguments.of(
            "an invalid setting",
            2,
            "lock show -D worker.concurrency=x --model m v1",
            "worker.concurrency must be a positive integer"),
        Arguments.of(
            "a subset size of 0",
            2,
            "subset build --name s --version v1 --from "
                + missing
                + " --size 0 --out "
                + dir.resolve("out.parquet")
                + " "
                + archive,
            "--size"),
        Arguments.of(
            "a missing traffic log",
            2,
            "subset build --name s --version v1 --from "
                + missing
                + " --size 5 --out "
                + dir.resolve("out.parquet")
                + " "
                + archive,
            "missing.parquet"),
        Arguments.of(
            "a traffic log that is not Parquet",
            2,
            "subset build --name s --version v1 --from "
                + notParquet
                + " --size 5 --out "
                + dir.resolve("out.parquet")
                + " "
                + archive,
            "traffic.parquet"),
        Arguments.of(
            "a subset version never registered", 2, "subset diff --name s v1 v2 " + archive, "v1"),
        Arguments.of(
            "a report of a version never evaluated",
            2,
            "report --model m --version v9 " + archive,
            "v9"),
        Arguments.of(
            "a lockfile of a version never evaluated",
            2,
            "lock show --model m v9 " + archive,
            "v9"),
        Arguments.of(
            "lockfiles that do not exist",
            2,
            "lock diff " + dir.resolve("a.lock.json") + " " + dir.resolve("b.lock.json"),
            "a.lock.json"),
        Arguments.of(
            "the history of a model never evaluated",
            2,
            "history --model nothing-here " + archive,
            "nothing-here"),
        Arguments.of(
            "a monitor spec that is not valid",
            2,
            "monitor --spec " + badSpec + " --at 2026-12-01T10:00:00Z " + archive,
            "spec"),
        Arguments.of(
            "a monitor spec that does not exist",
            2,
            "monitor --spec " + dir.resolve("nope.json") + " --at 2026-12-01T10:00:00Z",
            "nope.json"),
        Arguments.of(
            "a model file that does not exist",
            2,
            "inspect " + dir.resolve("model.onnx"),
            "model.onnx"),
        Arguments.of(
            "an event file that is not JSON",
            2,
            "submit " + noBroker + " --event " + notJson,
            "event.json"),
        Arguments.of(
            "an artifact that does not exist",
            2,
            "submit "
                + noBroker
                + " --model m --version v1 --artifact "
                + dir.resolve("model.onnx")
                + " --subset "
                + missing,
            "model.onnx"),
        Arguments.of(
            "a misspelled change kind, naming the accepted ones",
            2,
            "submit "
                + noBroker
                + " --model m --version v1 --artifact "
                + dir.resolve("model.onnx")
                + " --subset "
                + missing
                + " --change-kind quantisation",
            "unknown change kind 'quantisation' (known: [retrain, quantization, export, runtime])"),
        Arguments.of(
            "an event file with a misspelled change kind",
            2,
            "submit " + noBroker + " --event " + typoEvent,
            "change_kind"),
        Arguments.of(
            "a misspelled role, before anything is created",
            2,
            "topics " + noBroker + " --acls --principal workr=User:evalfleet-worker",
            "unknown role 'workr': the roles are dispatcher, worker, notifier, monitor,"
                + " submitter, promotion-reader, baseline-manager"),
        Arguments.of(
            "a principal without its type",
            2,
            "topics " + noBroker + " --acls --principal worker=evalfleet-worker",
            "principal 'evalfleet-worker' has no type"),
        Arguments.of(
            "--acls without a principal",
            2,
            "topics " + noBroker + " --acls",
            "--acls needs at least one --principal ROLE=PRINCIPAL"),
        Arguments.of(
            "a broker that does not answer", 3, "topics " + noBroker, "cannot reach Kafka"),
        Arguments.of(
            "a broker that does not answer, for a baseline",
            3,
            "baseline show --model m " + noBroker,
            "cannot reach Kafka"));
  }

  @ParameterizedTest(name = "{0}: exit {1}")
  @MethodSource("mistakes")
  void aMistakeIsOneClearMessageWithItsExitCodeAndNoStackTrace(
      String mistake, int exitCode, String command, String named) {
    List<String> args = new ArrayList<>(List.of(command.split(" ")));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      var line = Evalfleet.commandLine();
      line.setErr(new PrintWriter(System.err, true));
      line.setOut(new PrintWriter(System.out, true));
      code = Evalfleet.execute(line, args.toArray(String[]::new));
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    String console = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    System.out.printf("%s (exit %d):%n%s%n", mistake, code, console.indent(4));
    assertThat(console)
        .as("console")
        .doesNotContain("\tat ")
        .doesNotContain("Exception:")
        .contains(named);
    assertThat(console.lines().filter(l -> !l.isBlank()).count())
        .as("lines on the console")
        .isLessThanOrEqualTo(4);
    assertThat(code).as("exit code; console:%n%s", console).isEqualTo(exitCode);
  }
}

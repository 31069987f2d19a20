package io.evalfleet.common.failure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.util.stream.Stream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.S3AUtils;
import org.apache.hadoop.fs.s3a.auth.NoAuthWithAWSException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * What S3A makes of an S3 answer, sorted: refused credentials and a missing bucket or key are the
 * input's fault (ERROR, never retried), an endpoint that cannot be reached is an outage. The
 * exceptions are S3A's own translation ({@link S3AUtils#translateException}) of the SDK's.
 */
class S3FailuresTest {
  static final Path OBJECT = new Path("s3a://bucket1/dir/model.onnx");

  static Stream<Arguments> answers() {
    return Stream.of(
        Arguments.of(s3(403, "SignatureDoesNotMatch", "Forbidden"), FailureKind.BAD_INPUT),
        Arguments.of(s3(403, "InvalidAccessKeyId", "Forbidden"), FailureKind.BAD_INPUT),
        Arguments.of(s3(403, "AccessDenied", "Access Denied"), FailureKind.BAD_INPUT),
        Arguments.of(s3(401, "Unauthorized", "Unauthorized"), FailureKind.BAD_INPUT),
        Arguments.of(
            new NoAuthWithAWSException("No AWS Credentials provided by StandardAwsCredentials"),
            FailureKind.BAD_INPUT),
        Arguments.of(
            s3(404, "NoSuchBucket", "The specified bucket does not exist"), FailureKind.BAD_INPUT),
        Arguments.of(s3(404, "NoSuchKey", "Not Found"), FailureKind.BAD_INPUT),
        Arguments.of(
            s3(503, "SlowDown", "Please reduce your request rate"), FailureKind.UNAVAILABLE),
        Arguments.of(
            s3(500, "InternalError", "We encountered an internal error"), FailureKind.UNAVAILABLE),
        Arguments.of(
            SdkClientException.builder()
                .message("Unable to execute HTTP request: Connection refused")
                .cause(new ConnectException("Connection refused"))
                .build(),
            FailureKind.UNAVAILABLE));
  }

  @ParameterizedTest(name = "{0} is {1}")
  @MethodSource("answers")
  void eachS3AnswerHasOneKind(SdkException answer, FailureKind kind) {
    IOException translated = S3AUtils.translateException("getFileStatus", OBJECT, answer);
    assertThat(Failures.kindOf(translated)).as("%s", translated).isEqualTo(kind);
    assertThat(translated.getMessage()).contains(OBJECT.toString());
  }

  @ParameterizedTest(name = "{0} is access denied")
  @MethodSource("answers")
  void onlyRefusedCredentialsAreAccessDenied(SdkException answer, FailureKind kind) {
    IOException translated = S3AUtils.translateException("getFileStatus", OBJECT, answer);
    int status = answer instanceof S3Exception s3 ? s3.statusCode() : 0;
    boolean refused = status == 401 || status == 403 || answer instanceof NoAuthWithAWSException;
    assertThat(Failures.isAccessDenied(translated)).as("%s", translated).isEqualTo(refused);
  }

  @org.junit.jupiter.api.Test
  void aMissingBucketIsAMissingStoreAndAMissingFile() {
    IOException bucket =
        S3AUtils.translateException(
            "getFileStatus",
            OBJECT,
            s3(404, "NoSuchBucket", "The specified bucket does not exist"));
    IOException key =
        S3AUtils.translateException("getFileStatus", OBJECT, s3(404, "NoSuchKey", "Not Found"));
    assertThat(Failures.isMissingStore(bucket)).isTrue();
    assertThat(Failures.isMissingFile(bucket)).isTrue();
    assertThat(Failures.isMissingStore(key)).isFalse();
    assertThat(Failures.isMissingFile(key)).isTrue();
    assertThat(Failures.kindOfVerifiedInput(bucket))
        .as("a bucket gone since pre-flight found it: the store, not the event")
        .isEqualTo(FailureKind.UNAVAILABLE);
  }

  private static S3Exception s3(int status, String code, String message) {
    return (S3Exception)
        S3Exception.builder()
            .statusCode(status)
            .message(message)
            .awsErrorDetails(
                AwsErrorDetails.builder()
                    .errorCode(code)
                    .errorMessage(message)
                    .serviceName("S3")
                    .build())
            .build();
  }

  @org.junit.jupiter.api.Test
  void anObjectWithoutTheVersionS3aChecksIsBadInputNotAnOutage() {
    IOException noEtag =
        new org.apache.hadoop.fs.s3a.NoVersionAttributeException(
            OBJECT.toString(), "Change detection policy requires ETag");
    assertThat(Failures.kindOf(noEtag)).isEqualTo(FailureKind.BAD_INPUT);
    assertThat(Failures.isWithoutVersion(new IOException("wrapped", noEtag))).isTrue();
  }
}

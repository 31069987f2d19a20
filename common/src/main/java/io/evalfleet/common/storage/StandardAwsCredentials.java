package io.evalfleet.common.storage;

import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * The AWS SDK's standard credential chain for S3A, in the order the SDK documents: the {@code
 * AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY} environment variables and {@code aws.*} system
 * properties, a web identity token file ({@code AWS_WEB_IDENTITY_TOKEN_FILE} and {@code
 * AWS_ROLE_ARN}, as a Kubernetes service account's role gets them), the profile file ({@code
 * ~/.aws/credentials}, {@code AWS_SHARED_CREDENTIALS_FILE}, {@code AWS_PROFILE}), the container's
 * and then the instance's credentials endpoint.
 *
 * <p>Each instance has a chain of its own: S3A closes its providers with its file system, and the
 * SDK's {@code DefaultCredentialsProvider.create()} is a shared instance that a close would break
 * for every other file system in the process (a web identity chain's STS client among them). S3A
 * creates it through its public no-argument constructor. Thread-safe.
 */
public final class StandardAwsCredentials implements AwsCredentialsProvider, SdkAutoCloseable {
  private final DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build();

  @Override
  public AwsCredentials resolveCredentials() {
    return chain.resolveCredentials();
  }

  @Override
  public void close() {
    chain.close();
  }

  @Override
  public String toString() {
    return "StandardAwsCredentials";
  }
}

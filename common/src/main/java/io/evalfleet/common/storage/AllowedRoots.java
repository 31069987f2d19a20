package io.evalfleet.common.storage;

import java.net.URI;
import java.util.Arrays;
import java.util.List;

/**
 * The storage locations artifacts and golden subsets may come from, e.g. {@code
 * file:///data/models, s3a://ml-artifacts/staged}. A location is allowed when, after normalisation,
 * it lies inside one of the roots (on a path-segment boundary: {@code /data/models2} is not inside
 * {@code /data/models}). No roots: everything is allowed.
 */
public final class AllowedRoots {
  private final List<URI> roots;

  private AllowedRoots(List<URI> roots) {
    this.roots = roots;
  }

  public static AllowedRoots any() {
    return new AllowedRoots(List.of());
  }

  /** Parses a comma-separated list; blank means no restriction. */
  public static AllowedRoots parse(String list) {
    return new AllowedRoots(
        Arrays.stream(list.split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .map(AllowedRoots::normalized)
            .toList());
  }

  public void check(String location) throws AccessDeniedException {
    if (roots.isEmpty()) {
      return;
    }
    URI uri = normalized(location);
    for (URI root : roots) {
      if (inside(uri, root)) {
        return;
      }
    }
    throw new AccessDeniedException(location + " is outside the allowed storage roots " + roots);
  }

  private static boolean inside(URI uri, URI root) {
    if (!same(uri.getScheme(), root.getScheme())
        || !same(uri.getAuthority(), root.getAuthority())) {
      return false;
    }
    String path = uri.getPath();
    String rootPath = root.getPath().endsWith("/") ? root.getPath() : root.getPath() + "/";
    return path.equals(root.getPath()) || path.startsWith(rootPath);
  }

  private static boolean same(String a, String b) {
    return a == null ? b == null : a.equalsIgnoreCase(b);
  }

  /**
   * Absolute paths become {@code file:} URIs; {@code .} and {@code ..} segments are resolved away.
   */
  private static URI normalized(String location) {
    URI uri = URI.create(location.startsWith("/") ? "file://" + location : location).normalize();
    if ("file".equalsIgnoreCase(uri.getScheme()) && uri.getAuthority() == null) {
      uri = URI.create("file://" + uri.getPath());
    }
    return uri;
  }

  @Override
  public String toString() {
    return roots.isEmpty() ? "(any)" : roots.toString();
  }
}

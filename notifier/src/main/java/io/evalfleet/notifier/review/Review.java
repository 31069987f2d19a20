package io.evalfleet.notifier.review;

import io.evalfleet.common.contract.DriftFlag;

/**
 * What the notifier delivers for one flag: the comment and where its report is.
 *
 * @param markdown the comment, starting with the model's hidden marker
 * @param reportUri where the HTML report was written in the archive; null when it could not be
 * @param reportLink the report's address as the comment links it (the public URL when the archive
 *     is published at one, else the archive URI)
 */
public record Review(DriftFlag flag, String markdown, String reportUri, String reportLink) {}

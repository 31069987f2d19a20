package io.evalfleet.common.kafka.acl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class AclDocTest {
  @Test
  void operationsDocHoldsEveryRolesGrantsAsTheCodeHasThem() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "operations.md"));
    assertThat(doc)
        .as(
            "the ACL table of docs/operations.md (section Secured clusters) differs from"
                + " RoleAcls.grants: paste RoleAcls.markdownTable() there")
        .contains(RoleAcls.markdownTable());
  }
}

// The New patient form's refusal of a name (or an external id) that shows nothing comes from the
// database's rule (src/lib/errors.ts nameRefusal, externalIdRefusal; migrations 20260101015500,
// 20260101018800): its check violation, by name.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { errorMessage, externalIdRefusal, nameRefusal, oneLineRefusal, templateRefusal } = require("../.unit-build/errors.js");

describe("nameRefusal", () => {
  test("the name check's violation is the form's name_invisible, which says how to fix it", () => {
    const code = nameRefusal({ code: "23514", constraint_name: "patients_display_name_visible" });
    assert.equal(code, "name_invisible");
    assert.match(errorMessage(code), /^Name: it shows nothing.*for example Ana\.$/);
  });

  test("other refusals are not taken for it", () => {
    assert.equal(nameRefusal({ code: "23514", constraint_name: "patients_display_name_template_max" }), null);
    assert.equal(nameRefusal({ code: "23505", constraint_name: "patients_display_name_visible" }), null);
    assert.equal(nameRefusal(new Error("boom")), null);
    assert.equal(nameRefusal(null), null);
  });
});

describe("externalIdRefusal", () => {
  test("the external id check's violation is the form's external_id_invisible", () => {
    const code = externalIdRefusal({ code: "23514", constraint_name: "patients_external_id_visible" });
    assert.equal(code, "external_id_invisible");
    assert.match(errorMessage(code), /^External id: it shows nothing.*or leave it empty\.$/);
    assert.equal(externalIdRefusal({ code: "23514", constraint_name: "patients_display_name_visible" }), null);
    assert.equal(externalIdRefusal({ code: "23505", constraint_name: "patients_external_id_visible" }), null);
  });
});

describe("oneLineRefusal", () => {
  // The refusal as postgres.js gives it (migration 20260101019020): the form's field and message.
  test("a one-line column's refusal is that field's control message, which says to type it on one line", () => {
    const refused = { code: "23514", table_name: "appointments", constraint_name: "appointments_clinician_name_one_line" };
    assert.equal(oneLineRefusal(refused), "control_clinician_name");
    assert.match(errorMessage(oneLineRefusal(refused)), /^Clinician: .*line break.*Type it on one line; nothing was saved\.$/);
    const clinic = { code: "23514", table_name: "organizations", constraint_name: "organizations_name_one_line" };
    assert.match(errorMessage(oneLineRefusal(clinic)), /^Name: /);
    // A patient's name (migration 20260101019030): the patient forms' display_name field.
    const patient = { code: "23514", table_name: "patients", constraint_name: "patients_display_name_one_line" };
    assert.equal(oneLineRefusal(patient), "control_display_name");
    assert.match(errorMessage(oneLineRefusal(patient)), /^Name: .*line break.*Type it on one line; nothing was saved\.$/);
  });

  test("other refusals are not taken for it", () => {
    assert.equal(oneLineRefusal({ code: "23514", table_name: "patients", constraint_name: "patients_external_id_visible" }), null);
    assert.equal(oneLineRefusal({ code: "23505", table_name: "organizations", constraint_name: "organizations_name_one_line" }), null);
    assert.equal(oneLineRefusal({ code: "23514", constraint_name: "organizations_name_one_line" }), null);
    assert.equal(oneLineRefusal(null), null);
  });
});

describe("templateRefusal", () => {
  // What the templates page's actions (save, rename) answer when the database refused the name,
  // as postgres.js reports the refusal: the form's own field named, what to do, nothing saved.
  test("a template name on two lines is the field's message in the editor and in Rename", () => {
    const refused = { code: "23514", table_name: "message_templates", constraint_name: "message_templates_name_one_line" };
    assert.equal(templateRefusal(refused, "name"), "control_name");
    assert.match(errorMessage(templateRefusal(refused, "name")), /^Name: .*line break.*Type it on one line; nothing was saved\.$/);
    assert.equal(templateRefusal(refused, "new_name"), "control_new_name");
    assert.match(errorMessage(templateRefusal(refused, "new_name")), /^New name: .*line break.*Type it on one line/);
  });

  test("a new name another template has (public.rename_template) says so", () => {
    const taken = { code: "23505", constraint_name: "message_templates_name_taken" };
    assert.equal(templateRefusal(taken, "new_name"), "template_name_taken");
    assert.match(errorMessage("template_name_taken"), /^New name: another template .*Nothing was renamed\. Choose another name/);
  });

  test("other refusals are raised on, not taken for these", () => {
    const clinic = { code: "23514", table_name: "organizations", constraint_name: "organizations_name_one_line" };
    assert.equal(templateRefusal(clinic, "name"), null);
    assert.equal(templateRefusal({ code: "23505", constraint_name: "message_templates_organization_id_name_locale_channel_key" }, "name"), null);
    assert.equal(templateRefusal(new Error("message_templates_name_taken"), "new_name"), null);
    assert.equal(templateRefusal(null, "name"), null);
  });
});

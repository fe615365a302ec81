import "server-only";
import type { Tx } from "../db";

/** The organization's message templates (saved texts). */

export interface TemplateRow {
  id: string;
  name: string;
  kind: string;
  /** The clinic's text for automatic messages of `kind` (message_templates.automatic). */
  automatic: boolean;
  locale: string;
  channel: string;
  body: string;
  updated_at: Date;
}

/** All templates of the organization, by name. */
export async function listTemplates(tx: Tx): Promise<TemplateRow[]> {
  return tx<TemplateRow[]>`
    select id, name, kind, automatic, locale, channel, body, updated_at from message_templates
     order by name, locale, channel`;
}

/**
 * Create the template, or replace the one with the same name, locale and channel. `kind`
 * `free_text` is a text for Compose; any other kind makes it the clinic's text for automatic
 * messages of that kind in that language and channel, taking over from the version that had
 * that place (at most one per kind, language and channel: the database's unique index).
 */
export async function saveTemplate(
  tx: Tx,
  t: { name: string; kind: string; locale: string; channel: string; body: string; createdBy: string },
): Promise<void> {
  const automatic = t.kind !== "free_text";
  if (automatic) {
    await tx`
      update message_templates set automatic = false
       where organization_id = public.current_organization_id() and automatic
         and kind = ${t.kind} and locale = ${t.locale} and channel = ${t.channel} and name <> ${t.name}`;
  }
  await tx`
    insert into message_templates (organization_id, name, locale, channel, body, kind, automatic, created_by)
    values (public.current_organization_id(), ${t.name}, ${t.locale}, ${t.channel}, ${t.body},
            ${t.kind}, ${automatic}, ${t.createdBy})
    on conflict (organization_id, name, locale, channel)
    do update set body = excluded.body, kind = excluded.kind, automatic = excluded.automatic`;
}

/**
 * Give every version of the clinic's template that version `id` is one of the name `newName`, and
 * the messages waiting to be sent with it too: public.rename_template (migration
 * 20260101019450), which renames in the signed-in clinician's clinic only, as its admin. By a
 * version's id, not the name: a name saved on two lines would come back from the form with its
 * line breaks made CRLF (HTML's form encoding) and match no template. How many versions were
 * renamed (0: no such version in the clinic). Refused: a new name another template has (23505,
 * message_templates_name_taken), one holding a line break (message_templates_name_one_line).
 */
export async function renameTemplate(tx: Tx, id: string, newName: string): Promise<number> {
  const [row] = await tx<{ renamed: number | null }[]>`
    select public.rename_template(public.current_organization_id(), t.name, ${newName}) as renamed
      from message_templates t where t.id = ${id}`;
  return row?.renamed ?? 0;
}

/** What deleting a template version did. */
export type DeleteOutcome = "deleted" | "not_found" | "in_use";

/**
 * Delete a template version. Refused ("in_use") when it is the template's last version and
 * messages waiting to be sent name the template: the worker would fail them at send time.
 */
export async function deleteTemplate(tx: Tx, id: string): Promise<DeleteOutcome> {
  const [row] = await tx<{ deleted: boolean; found: boolean }[]>`
    with target as (
      select t.id, t.name from message_templates t where t.id = ${id}
    ), blocked as (
      select exists (
        select 1 from target t
          join scheduled_messages m on m.template = t.name
                                   and m.status in ('pending', 'processing')
         where not exists (select 1 from message_templates o
                            where o.name = t.name and o.id <> t.id)
      ) as yes
    ), gone as (
      delete from message_templates d using target t, blocked b
       where d.id = t.id and not b.yes
      returning d.id
    )
    select exists (select 1 from gone) as deleted, exists (select 1 from target) as found`;
  if (row?.deleted) return "deleted";
  return row?.found ? "in_use" : "not_found";
}

/** What Compose needs of a template version (kind `free_text`: what a clinician message may use). */
export interface ComposeTemplateRow {
  name: string;
  locale: string;
  channel: string;
  body: string;
}

/**
 * The organization's free-text templates, every version, and the clinic's default language
 * (which version Compose previews). Row-level security limits both to the clinician's clinic;
 * the `organization_id` conditions say so again, so a policy change cannot widen this.
 */
export async function composeTemplates(tx: Tx): Promise<{ locale: string; templates: ComposeTemplateRow[] }> {
  const [org] = await tx<{ locale: string }[]>`
    select locale from organizations where id = public.current_organization_id()`;
  const templates = await tx<ComposeTemplateRow[]>`
    select name, locale, channel, body from message_templates
     where organization_id = public.current_organization_id() and kind = 'free_text'
     order by name, locale, channel`;
  return { locale: org?.locale ?? "en", templates };
}

/** Every free-text version of the clinic's template `name` (empty when there is none). */
export async function templateVersions(tx: Tx, name: string): Promise<ComposeTemplateRow[]> {
  return tx<ComposeTemplateRow[]>`
    select name, locale, channel, body from message_templates
     where organization_id = public.current_organization_id() and kind = 'free_text'
       and name = ${name}
     order by locale, channel`;
}

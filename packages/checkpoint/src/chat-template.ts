// Chat templates: finding the template a tokenizer ships and rendering it with @huggingface/jinja.
import { Template } from '@huggingface/jinja';
import { CheckpointError } from './errors';

/** One chat turn; extra fields (tool calls, names…) are passed to the template as they are. */
export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** Append the opening of an assistant turn (default false). */
  addGenerationPrompt?: boolean;
  /** A named template of the tokenizer (e.g. 'tool_use'), or a template text to use instead. */
  template?: string;
  /** More variables for the template (e.g. `tools`, `date_string`). */
  extra?: Record<string, unknown>;
}

/** `chat_template` of tokenizer_config.json: one string, or a list of `{name, template}` (default named 'default'). */
export function chatTemplatesFrom(value: unknown, source: string): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined || value === null) return out;
  if (typeof value === 'string') out.set('default', value);
  else if (Array.isArray(value)) {
    for (const t of value) {
      if (typeof t?.name !== 'string' || typeof t?.template !== 'string') {
        throw new CheckpointError('BAD_TOKENIZER', `${source}: chat_template entries must be {"name": string, "template": string}`, { path: source });
      }
      out.set(t.name, t.template);
    }
  } else throw new CheckpointError('BAD_TOKENIZER', `${source}: chat_template must be a string or a list of {name, template}`, { path: source });
  return out;
}

const compiled = new Map<string, Template>();

/**
 * Renders a Jinja chat template the way transformers' `apply_chat_template` does (messages, special
 * tokens, add_generation_prompt). Template errors, including the template's own raise_exception, become
 * CHAT_TEMPLATE_ERROR.
 *
 * @example
 * renderChatTemplate("{% for m in messages %}{{ bos_token + m['content'] }}{% endfor %}", [{ role: 'user', content: 'hi' }], { bos_token: '<s>' });
 */
export function renderChatTemplate(template: string, messages: readonly ChatMessage[], variables: Record<string, unknown>, source = 'chat template'): string {
  try {
    let t = compiled.get(template);
    if (!t) {
      t = new Template(template);
      if (compiled.size > 32) compiled.clear();
      compiled.set(template, t);
    }
    return t.render({ ...variables, messages: messages.map((m) => ({ ...m })) });
  } catch (e) {
    throw new CheckpointError('CHAT_TEMPLATE_ERROR', `${source}: ${(e as Error).message}`, { cause: e });
  }
}

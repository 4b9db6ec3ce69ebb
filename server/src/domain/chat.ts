/** Chat rules, shared by the server (which enforces them) and the web client (which shows them). */
export const MAX_CHAT_LENGTH = 2000;

export type ChatTextProblem = 'empty' | 'too-long';

/** Why a chat text would be refused, or null when it is acceptable. */
export function chatTextProblem(text: string): ChatTextProblem | null {
  if (text.trim().length === 0) return 'empty';
  if (text.length > MAX_CHAT_LENGTH) return 'too-long';
  return null;
}

// A confirmation in a modal <dialog>: focus moves into it (the safe choice first), Escape cancels,
// and focus returns to what had it. Resolves true only when the user confirms.

import { h, uid } from './dom.js';
import { t } from './i18n.js';

export function confirmDialog({ title, body, confirm, danger = false, testid = 'confirm-dialog' }) {
  return new Promise((resolve) => {
    const before = document.activeElement;
    const titleId = uid('dialog-title');
    const bodyId = uid('dialog-body');
    const cancelBtn = h('button', { type: 'button', class: 'btn btn-secondary', testid: `${testid}-cancel` }, t('dialog.cancel'));
    const okBtn = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], testid: `${testid}-confirm` }, confirm);
    const dialog = h('dialog', { class: 'dialog', testid, 'aria-labelledby': titleId, 'aria-describedby': bodyId },
      h('h2', { id: titleId, class: 'dialog-title' }, title),
      h('div', { id: bodyId, class: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' }, cancelBtn, okBtn));
    let answer = false;
    const close = (value) => { answer = value; dialog.close(); };
    cancelBtn.addEventListener('click', () => close(false));
    okBtn.addEventListener('click', () => close(true));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (before && typeof before.focus === 'function' && before.isConnected) before.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelBtn.focus();
  });
}

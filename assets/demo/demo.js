// Behaviour of the demo page itself (not the tracker): a fetch-based newsletter form and a
// multi-step quote form, as a site builder would ship them.
document.addEventListener('DOMContentLoaded', () => {
  const newsletter = document.getElementById('newsletter');
  newsletter.addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = newsletter.querySelector('.result');
    await fetch('/demo/thanks', { method: 'POST', body: new FormData(newsletter) }).catch(() => {});
    result.textContent = 'Thanks, you are subscribed.';
    newsletter.reset();
  });

  const quote = document.getElementById('quote-form');
  const steps = [...quote.querySelectorAll('.step')];
  const show = (n) => steps.forEach((s, i) => { s.hidden = i !== n; });
  let current = 0;
  quote.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    if (button.classList.contains('next')) {
      const inputs = [...steps[current].querySelectorAll('input, select')];
      if (inputs.every((i) => i.reportValidity())) show(++current);
    } else if (button.classList.contains('back')) {
      show(--current);
    }
  });
});

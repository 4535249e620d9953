// The chat app's script (read by app.py at start, put in the page head). A citation [n] is a plain
// href="#<turn>-src-n" link to its quote in the same answer's source list; this script shows a preview card
// (title and quote) on hover or tap, and "Full abstract" opens the abstract with the quote scrolled into view.
(() => {
  let card = null;
  let hideTimer = null;
  let shownFor = null;
  let shownAt = null;

  function previewCard() {
    if (card) return card;
    card = document.createElement("div");
    card.className = "rag-preview";
    card.id = "rag-preview";
    card.setAttribute("role", "dialog");
    card.hidden = true;
    card.innerHTML = '<div class="rag-preview-title"></div><div class="rag-preview-meta src-sub"></div>' +
      '<blockquote class="rag-preview-quote"></blockquote><div class="rag-preview-actions">' +
      '<button type="button" data-action="abstract">Full abstract</button>' +
      '<button type="button" data-action="close">Close</button></div>';
    card.addEventListener("mouseenter", () => clearTimeout(hideTimer));
    card.addEventListener("mouseleave", () => hideSoon());
    document.body.appendChild(card);
    return card;
  }

  function quoteOf(link) {
    const id = (link.getAttribute("href") || "").slice(1);
    return id ? document.getElementById(id) : null;
  }

  function show(link) {
    const quote = quoteOf(link);
    const item = quote && quote.closest(".src-item");
    if (!item) return;
    const box = previewCard();
    clearTimeout(hideTimer);
    shownFor = quote;
    box.querySelector(".rag-preview-title").textContent = item.querySelector(".src-title")?.textContent || "";
    box.querySelector(".rag-preview-meta").textContent = item.querySelector(".src-meta")?.textContent || "";
    const text = quote.cloneNode(true);
    text.querySelector(".src-num")?.remove();
    box.querySelector(".rag-preview-quote").textContent = text.textContent.trim();
    box.hidden = false;
    shownAt = link;
    place(link);
  }

  function place(link) {
    const box = previewCard();
    const at = link.getBoundingClientRect();
    const width = box.offsetWidth;
    const height = box.offsetHeight;
    const left = Math.max(8, Math.min(at.left - 12, innerWidth - width - 8));
    const below = at.bottom + 6;
    box.style.left = `${left}px`;
    box.style.top = `${below + height < innerHeight - 8 ? below : Math.max(8, at.top - height - 6)}px`;
  }

  function hide() {
    if (card) card.hidden = true;
    shownFor = shownAt = null;
  }

  function hideSoon() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, 250);
  }

  function mark(quote) {
    document.querySelectorAll(".src-targeted").forEach((el) => el.classList.remove("src-targeted"));
    document.querySelectorAll(".src-quote-targeted").forEach((el) => el.classList.remove("src-quote-targeted"));
    quote.classList.add("src-quote-targeted");
    quote.closest(".src-item")?.classList.add("src-targeted");
  }

  function openAbstract(quote) {
    const details = quote.closest(".src-item")?.querySelector("details.src-abstract");
    if (!details) return;
    details.open = true;
    const marked = details.querySelector("mark") || details;
    marked.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  document.addEventListener("click", (event) => {
    const action = event.target.closest && event.target.closest(".rag-preview button");
    if (action) {
      if (action.dataset.action === "abstract" && shownFor) openAbstract(shownFor);
      hide();
      return;
    }
    const link = event.target.closest && event.target.closest('a.rag-cite[href^="#"]');
    if (!link) {
      if (!(event.target.closest && event.target.closest(".rag-preview"))) hide();
      return;
    }
    event.preventDefault();  // the page stays where it is: the card shows the quote next to the [n]
    const quote = quoteOf(link);
    if (!quote) return;
    mark(quote);
    history.replaceState(null, "", link.getAttribute("href"));
    show(link);
  }, true);

  document.addEventListener("mouseover", (event) => {
    const link = event.target.closest && event.target.closest('a.rag-cite[href^="#"]');
    if (link && matchMedia("(hover: hover)").matches) show(link);
  });
  document.addEventListener("mouseout", (event) => {
    if (event.target.closest && event.target.closest("a.rag-cite")) hideSoon();
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") hide(); });
  addEventListener("scroll", () => { if (shownAt) place(shownAt); }, { capture: true, passive: true });

  // Opening an abstract by its own "Full abstract" line also brings its first quote into view.
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (details.matches && details.matches("details.src-abstract") && details.open) {
      details.querySelector("mark")?.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }
  }, true);
})();

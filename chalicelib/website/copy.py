"""Localized strings for the template provider and the renderer: one dict per locale.

Templates use ``str.format`` with named fields; user text is only ever passed as a format
*argument*, so braces in a business name are never interpreted.
"""

from __future__ import annotations

from typing import Any

Copy = dict[str, Any]

PT_BR: Copy = {
    "slugs": {"home": "index", "services": "servicos", "about": "sobre", "contact": "contato"},
    "nav": {"home": "Início", "services": "Serviços", "about": "Sobre", "contact": "Contato"},
    "purpose": {
        "home": "Apresentar {name} e levar o visitante a entrar em contato.",
        "services": "Detalhar os serviços oferecidos e como funciona o atendimento.",
        "about": "Contar a história e os valores de {name} para gerar confiança.",
        "contact": "Reunir telefone, e-mail, WhatsApp e um formulário de contato.",
    },
    "in_city": " em {city}",
    "and": " e ",
    "title_home": "{name} | {segment}{where}",
    "title_page": "{label} | {name}",
    "tagline": "{segment}{where} com qualidade e atendimento próximo",
    "audience": "Pessoas e empresas{where} que procuram {segment} de confiança, com preço justo e bom atendimento.",
    "tone": "Próximo, claro e confiável",
    "msg_services": "Serviços: {services}.",
    "msg_local": "Atendimento local{where}.",
    "msg_contact": "Contato fácil por telefone, e-mail ou WhatsApp.",
    "intro": "{name} atua em {segment}{where}, com atendimento próximo e compromisso com a qualidade.",
    "cta": "Peça um orçamento",
    "default_services": ["Atendimento personalizado", "Orçamento sem compromisso", "Suporte após o serviço"],
    "home_services_h": "O que fazemos",
    "home_services_b": "Conheça os principais serviços de {name}. Cada trabalho é feito com atenção aos detalhes.",
    "home_why_h": "Por que escolher {name}",
    "home_why_b": "Trabalhamos com transparência do primeiro contato até a entrega.",
    "home_why_items": [
        "Atendimento rápido e atencioso",
        "Preço justo e combinado antes",
        "Compromisso com prazos",
        "Qualidade garantida",
    ],
    "band_h": "Vamos conversar?",
    "band_b": "Conte o que você precisa e receba uma resposta sem compromisso.",
    "services_hero": "Nossos serviços",
    "services_hero_t": "Soluções em {segment}{where} pensadas para o que você precisa.",
    "service_b": [  # rotated, so a list of services does not read like one sentence repeated
        "Em {service}, cuidamos de cada detalhe, do primeiro contato à entrega.",
        "Conte com {name} para {service}: atendimento próximo, prazo combinado e preço justo.",
        "Fale com a gente sobre {service} e receba um orçamento claro, sem compromisso.",
    ],
    "services_more_h": "E também",
    "services_more_b": "Outros serviços que oferecemos:",
    "how_h": "Como funciona",
    "how_b": "Um processo simples, do primeiro contato à entrega.",
    "how_items": [
        "Você entra em contato e conta o que precisa",
        "Enviamos um orçamento claro",
        "Executamos o serviço no prazo combinado",
        "Acompanhamos depois da entrega",
    ],
    "about_hero": "Conheça {name}",
    "about_story_h": "Nossa história",
    "about_values_h": "Nossos valores",
    "about_values_b": "O que guia o nosso trabalho todos os dias.",
    "about_values_items": [
        "Respeito ao cliente",
        "Honestidade",
        "Qualidade em cada detalhe",
        "Melhoria contínua",
    ],
    "about_area_h": "Onde atendemos",
    "about_area_b": "Atendemos clientes{where} e região. Entre em contato para saber mais.",
    "about_area_b_nocity": "Entre em contato para saber se atendemos a sua região.",
    "contact_hero": "Fale com {name}",
    "contact_hero_t": "Tire suas dúvidas ou peça um orçamento. Respondemos o quanto antes.",
    "contact_channels_h": "Canais de atendimento",
    "contact_channels_b": "Escolha o canal mais prático para você.",
    "generic_b": "{purpose}",
    # Renderer (interface) strings.
    "skip": "Pular para o conteúdo",
    "nav_aria": "Navegação principal",
    "menu": "Menu",
    "phone": "Telefone",
    "email": "E-mail",
    "whatsapp": "WhatsApp",
    "address": "Endereço",
    "whatsapp_cta": "Chamar no WhatsApp",
    "whatsapp_text": "Olá! Vim pelo site de {name}.",
    "direct_h": "Contato direto",
    "form_h": "Envie uma mensagem",
    "form_name": "Nome",
    "form_email": "E-mail",
    "form_phone": "Telefone (opcional)",
    "form_message": "Mensagem",
    "form_submit": "Enviar mensagem",
    "form_note": "Ao enviar, seu aplicativo de e-mail será aberto com a mensagem pronta.",
    "form_note_noemail": "Prefere falar agora? Use um dos canais acima.",
    "hero_art": "Ilustração com a marca de {name}",
    "rights": "Todos os direitos reservados.",
}

EN: Copy = {
    "slugs": {"home": "index", "services": "services", "about": "about", "contact": "contact"},
    "nav": {"home": "Home", "services": "Services", "about": "About", "contact": "Contact"},
    "purpose": {
        "home": "Introduce {name} and lead visitors to get in touch.",
        "services": "Describe the services on offer and how working together goes.",
        "about": "Tell the story and values of {name} to build trust.",
        "contact": "Gather phone, email, WhatsApp and a contact form in one place.",
    },
    "in_city": " in {city}",
    "and": " and ",
    "title_home": "{name} | {segment}{where}",
    "title_page": "{label} | {name}",
    "tagline": "{segment}{where}, done with care",
    "audience": "People and businesses{where} looking for reliable {segment} at a fair price, with friendly service.",
    "tone": "Warm, clear and trustworthy",
    "msg_services": "Services: {services}.",
    "msg_local": "Local service{where}.",
    "msg_contact": "Easy to reach by phone, email or WhatsApp.",
    "intro": "{name} offers {segment}{where}, with friendly service and a commitment to quality.",
    "cta": "Get a free quote",
    "default_services": ["Personal service", "Free, no-obligation quotes", "After-sales support"],
    "home_services_h": "What we do",
    "home_services_b": "Explore the main services of {name}. Every job gets careful attention to detail.",
    "home_why_h": "Why choose {name}",
    "home_why_b": "We work transparently, from the first conversation to the finished job.",
    "home_why_items": [
        "Fast, attentive service",
        "Fair prices agreed up front",
        "We keep our deadlines",
        "Quality guaranteed",
    ],
    "band_h": "Let's talk",
    "band_b": "Tell us what you need and get a reply with no obligation.",
    "services_hero": "Our services",
    "services_hero_t": "{segment}{where}, tailored to what you need.",
    "service_b": [
        "For {service}, we take care of every detail, from the first call to the finished job.",
        "Count on {name} for {service}: friendly service, agreed deadlines and fair prices.",
        "Ask us about {service} and get a clear, no-obligation quote.",
    ],
    "services_more_h": "And also",
    "services_more_b": "Other services we offer:",
    "how_h": "How it works",
    "how_b": "A simple process, from first contact to delivery.",
    "how_items": [
        "You get in touch and tell us what you need",
        "We send you a clear quote",
        "We do the work on the agreed schedule",
        "We follow up after delivery",
    ],
    "about_hero": "Meet {name}",
    "about_story_h": "Our story",
    "about_values_h": "Our values",
    "about_values_b": "What guides our work every day.",
    "about_values_items": [
        "Respect for every customer",
        "Honesty",
        "Quality in every detail",
        "Always improving",
    ],
    "about_area_h": "Where we work",
    "about_area_b": "We serve customers{where} and the surrounding area. Get in touch to learn more.",
    "about_area_b_nocity": "Get in touch to check whether we serve your area.",
    "contact_hero": "Contact {name}",
    "contact_hero_t": "Ask us anything or request a quote. We reply as soon as we can.",
    "contact_channels_h": "How to reach us",
    "contact_channels_b": "Pick whichever channel suits you best.",
    "generic_b": "{purpose}",
    "skip": "Skip to main content",
    "nav_aria": "Main navigation",
    "menu": "Menu",
    "phone": "Phone",
    "email": "Email",
    "whatsapp": "WhatsApp",
    "address": "Address",
    "whatsapp_cta": "Chat on WhatsApp",
    "whatsapp_text": "Hi! I found you through the {name} website.",
    "direct_h": "Reach us directly",
    "form_h": "Send us a message",
    "form_name": "Name",
    "form_email": "Email",
    "form_phone": "Phone (optional)",
    "form_message": "Message",
    "form_submit": "Send message",
    "form_note": "Sending opens your email app with the message ready to go.",
    "form_note_noemail": "Prefer to talk now? Use one of the channels above.",
    "hero_art": "Illustration with the {name} brand",
    "rights": "All rights reserved.",
}

COPY: dict[str, Copy] = {"pt-BR": PT_BR, "en": EN}
PAGE_KINDS = ("home", "services", "about", "contact")


def strings(locale: str) -> Copy:
    """The strings for ``locale``; unknown locales fall back to English text."""
    return COPY.get(locale, EN)


def page_kind(slug: str) -> str | None:
    """Which standard page a slug is in any supported locale (None for a custom page)."""
    for copy in COPY.values():
        for kind, known in copy["slugs"].items():
            if known == slug:
                return str(kind)
    return None


def og_locale(locale: str) -> str:
    """Open Graph locale: "pt-BR" -> "pt_BR", "en" -> "en_US"."""
    if locale == "en":
        return "en_US"
    return locale.replace("-", "_")

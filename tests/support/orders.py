"""An order and the API steps tests take with it: create and generate, run to the end, poison a message,
hand the dead letters to their handler. Through the Chalice test client (tests/support/stack.Api)."""

from __future__ import annotations

from infra.lambda_events import sqs_event
from infra.queue_feeder import receive
from tests.support.stack import drain

ORDER = {
    "business_name": "Padaria Pão Quente",
    "segment": "bakery",
    "description": "Pães artesanais e cafés da manhã no centro.",
    "services": ["Pães artesanais", "Bolos sob encomenda", "Café da manhã"],
    "contact": {
        "email": "contato@paoquente.com.br",
        "phone": "+55 11 4000-1234",
        "whatsapp": "+55 11 98888-7777",
        "address": "Rua das Flores, 10",
        "city": "São Paulo",
    },
    "brand": {"primary_color": "#8B4513", "secondary_color": "#F5DEB3"},
    "locale": "pt-BR",
}

# A second order, with only the required fields and a few more: the AI tests' (another segment, so a
# model's answer cannot be the bakery's by accident).
WORKSHOP_ORDER = {
    "business_name": "Oficina Dois Irmãos",
    "segment": "auto repair",
    "locale": "pt-BR",
    "services": ["Troca de óleo", "Freios"],
    "contact": {"email": "oi@doisirmaos.com.br", "city": "Campinas"},
}


def create_and_generate(client, order=ORDER):
    order = client.json("POST", "/orders", order, expect=201)
    generation = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    return order, generation


def generate(client, aws, order_id: str) -> dict:
    gen = client.json("POST", f"/orders/{order_id}/generations", expect=202)
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done
    return done


def poisoned(client, aws, order=None):
    """A generation whose first message dies five times in a row: SQS moves it to the dead-letter queue."""
    _, gen = create_and_generate(client, order) if order else create_and_generate(client)
    url = aws.resources.queue_url
    for _ in range(5):  # maxReceiveCount in infra/template.yaml
        [message] = receive(aws.sqs, url, 0)
        aws.sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert receive(aws.sqs, url, 0) == []  # SQS moved it to the dead-letter queue
    return gen


def handle_dead_letters(client, aws) -> int:
    url = aws.resources.dlq_url
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handled = 0
    while messages := receive(aws.sqs, url, 0):
        client.client.lambda_.invoke("on_dead_letter", sqs_event(messages, arn))  # never raises
        aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        handled += 1
    return handled

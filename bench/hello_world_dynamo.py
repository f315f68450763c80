"""The DynamoDB anchor: the hello-world skill with Amazon's DynamoDB persistence adapter.

As Amazon's persistence samples build it: ``CustomSkillBuilder`` with a ``DynamoDbAdapter``
(its own boto3 resource, ``create_table=False``), the table named by
``DYNAMODB_PERSISTENCE_TABLE_NAME``; the launch reads the user's attributes and saves a visit
count, as a skill that remembers its users must. The cold-start benchmark measures the skill with
its DynamoDB store against this.
"""

from __future__ import annotations

import os

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_core.utils import is_request_type
from ask_sdk_dynamodb.adapter import DynamoDbAdapter

from bench.hello_world import (
    CatchAllExceptionHandler,
    HelloWorldIntentHandler,
    SessionEndedRequestHandler,
)


class LaunchRequestHandler(AbstractRequestHandler):
    def can_handle(self, handler_input):
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input):
        attributes = handler_input.attributes_manager.persistent_attributes
        attributes["visits"] = attributes.get("visits", 0) + 1
        handler_input.attributes_manager.save_persistent_attributes()
        speak_output = "Welcome, you can say Hello or Help. Which would you like to try?"
        return handler_input.response_builder.speak(speak_output).ask(speak_output).response


adapter = DynamoDbAdapter(table_name=os.environ["DYNAMODB_PERSISTENCE_TABLE_NAME"],
                          create_table=False)
sb = CustomSkillBuilder(persistence_adapter=adapter)
sb.add_request_handler(LaunchRequestHandler())
sb.add_request_handler(HelloWorldIntentHandler())
sb.add_request_handler(SessionEndedRequestHandler())
sb.add_exception_handler(CatchAllExceptionHandler())

lambda_handler = sb.lambda_handler()
